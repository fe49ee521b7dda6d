//! The datasets lab10 knows by name. Each is four IDX files in MNIST's format (the same file
//! names), identified by the SHA-256 of their decompressed bytes, with its class names, where
//! to look for it and where to download it from.
//!
//! To add a dataset of the same format: one more `DatasetSpec` constant and one line in
//! [`KNOWN`].

use crate::error::DataError;
use crate::mnist::MnistFile;

#[derive(Debug, PartialEq, Eq)]
pub struct DatasetSpec {
    /// What `--dataset` and `dataset = "..."` say.
    pub name: &'static str,
    pub title: &'static str,
    /// Decompressed SHA-256 of each file, in [`MnistFile::ALL`]'s order.
    pub digests: [&'static str; 4],
    /// Class names, by label.
    pub classes: [&'static str; 10],
    /// Base URLs that serve `<file>.gz`, tried in order (`fetch::Places::mirrors` overrides).
    pub mirrors: &'static [&'static str],
    /// Folders where a system package installs the files, searched after `data/<name>/`.
    pub system_dirs: &'static [&'static str],
    /// How to get the files, for messages and `lab10 datasets`.
    pub how_to_get: &'static str,
    pub license: &'static str,
    /// A published MLP test accuracy on this dataset, for reports' reference column (MNIST's
    /// reference numbers are the lesson's, per experiment).
    pub reference: Option<&'static str>,
}

pub const MNIST: DatasetSpec = DatasetSpec {
    name: "mnist",
    title: "MNIST handwritten digits",
    digests: [
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    ],
    classes: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
    mirrors: &[
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ],
    system_dirs: &[],
    how_to_get: "the repository ships it in data/mnist/; otherwise lab10 downloads it into its cache",
    license: "CC BY-SA 3.0 (Yann LeCun, Corinna Cortes, Christopher J.C. Burges)",
    reference: None,
};

pub const FASHION_MNIST: DatasetSpec = DatasetSpec {
    name: "fashion-mnist",
    title: "Fashion-MNIST (Zalando) clothing images",
    digests: [
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    ],
    classes: [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ],
    mirrors: &["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
    system_dirs: &["/usr/share/datasets/fashion-mnist"],
    how_to_get: "`apt-get install dataset-fashion-mnist` (Debian/Ubuntu), or put the four files \
                 in data/fashion-mnist/; otherwise lab10 downloads it into its cache",
    license: "MIT (Zalando SE)",
    reference: Some("88.33 (MLP 256-128-100, the dataset's benchmark table)"),
};

/// Every dataset lab10 knows, the default first.
pub const KNOWN: [&DatasetSpec; 2] = [&MNIST, &FASHION_MNIST];

/// The name recorded for files that match no known dataset (accepted with `--no-verify`).
pub const CUSTOM: &str = "custom";

impl DatasetSpec {
    pub fn by_name(name: &str) -> Result<&'static DatasetSpec, DataError> {
        KNOWN
            .into_iter()
            .find(|d| d.name == name)
            .ok_or_else(|| DataError::UnknownDataset {
                name: name.to_string(),
                known: KNOWN.map(|d| d.name).join(", "),
            })
    }

    pub fn digest_of(&self, file: &MnistFile) -> &'static str {
        let i = MnistFile::ALL
            .iter()
            .position(|f| f == file)
            .expect("one of the four files");
        self.digests[i]
    }
}

/// The known dataset whose digests these are (files named as in [`MnistFile::ALL`]); files
/// not given are not compared.
pub fn identify<'a>(
    digests: impl Iterator<Item = (&'a MnistFile, &'a str)> + Clone,
) -> Option<&'static DatasetSpec> {
    KNOWN.into_iter().find(|spec| {
        let mut any = false;
        let all = digests.clone().all(|(file, digest)| {
            any = true;
            spec.digest_of(file) == digest
        });
        any && all
    })
}

/// Class names for a dataset name; digits for anything unknown (custom data has labels only).
pub fn class_names(dataset: &str) -> [&'static str; 10] {
    DatasetSpec::by_name(dataset).map_or(MNIST.classes, |d| d.classes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_and_unknown_names_list_the_known_ones() {
        assert_eq!(
            DatasetSpec::by_name("fashion-mnist").unwrap(),
            &FASHION_MNIST
        );
        let err = DatasetSpec::by_name("cifar10").unwrap_err().to_string();
        assert!(
            err.contains("cifar10") && err.contains("mnist, fashion-mnist"),
            "{err}"
        );
        assert_eq!(class_names("fashion-mnist")[9], "Ankle boot");
        assert_eq!(class_names(CUSTOM)[3], "3");
    }

    #[test]
    fn digests_identify_their_dataset() {
        let files = MnistFile::ALL;
        let fashion: Vec<(&MnistFile, &str)> = files.iter().zip(FASHION_MNIST.digests).collect();
        assert_eq!(identify(fashion.iter().copied()), Some(&FASHION_MNIST));
        // The test split alone is enough to tell.
        assert_eq!(identify(fashion[2..].iter().copied()), Some(&FASHION_MNIST));
        let mixed = [
            (&files[0], MNIST.digests[0]),
            (&files[1], FASHION_MNIST.digests[1]),
        ];
        assert_eq!(identify(mixed.iter().copied()), None);
        assert_eq!(identify([].iter().copied()), None);
    }
}
