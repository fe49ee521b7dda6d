//! Burn's training data loader, made resumable bit for bit. Burn's checkpoints save neither its
//! shuffling RNG nor the backend's (dropout's masks), so [`Resumable`] replays the shuffles of
//! the epochs a resumed run skips (no image is read), and seeds the backend's RNG from the run's
//! seed and the epoch's number at each epoch's start (the learner's one `iter()` per epoch).

use std::sync::{Arc, Mutex};

use burn::data::dataloader::{DataLoader, DataLoaderIterator};
use burn::prelude::Device;

pub(crate) struct Resumable<O> {
    /// Burn's loader.
    inner: Arc<dyn DataLoader<O>>,
    /// The device whose RNG every epoch re-seeds (the one training runs on).
    device: Device,
    seed: u64,
    /// The first epoch to train (1, or the epoch after a resumed run's checkpoint).
    first_epoch: usize,
    /// The epoch whose iterator is asked for next; epochs before `first_epoch` are replayed.
    next: Arc<Mutex<usize>>,
}

impl<O> Resumable<O> {
    pub fn new(
        inner: Arc<dyn DataLoader<O>>,
        device: Device,
        seed: u64,
        first_epoch: usize,
    ) -> Self {
        Self {
            inner,
            device,
            seed,
            first_epoch,
            next: Arc::new(Mutex::new(1)),
        }
    }

    fn wrap(&self, inner: Arc<dyn DataLoader<O>>) -> Self {
        Self {
            inner,
            device: self.device.clone(),
            seed: self.seed,
            first_epoch: self.first_epoch,
            next: Arc::new(Mutex::new(*self.next.lock().expect("epoch lock"))),
        }
    }
}

impl<O: Send + Sync + 'static> DataLoader<O> for Resumable<O> {
    fn iter<'a>(&'a self) -> Box<dyn DataLoaderIterator<O> + 'a> {
        let mut next = self.next.lock().expect("epoch lock");
        while *next < self.first_epoch {
            drop(self.inner.iter());
            *next += 1;
        }
        // The epoch's own random stream, from the run's seed and the epoch's number.
        let mix = (*next as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.device.seed(self.seed ^ mix);
        *next += 1;
        self.inner.iter()
    }

    fn num_items(&self) -> usize {
        self.inner.num_items()
    }

    fn to_device(&self, device: &Device) -> Arc<dyn DataLoader<O>> {
        Arc::new(self.wrap(self.inner.to_device(device)))
    }

    fn slice(&self, start: usize, end: usize) -> Arc<dyn DataLoader<O>> {
        Arc::new(self.wrap(self.inner.slice(start, end)))
    }
}
