//! `--slurm`: a group's or an ensemble's members as a Slurm job array and a summary job. Each
//! array task runs `lab10 train MEMBER.toml --continue`: a requeued task resumes its own
//! member's run from its last checkpoint (docs/cluster.md).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use lab10_experiment::{Experiment, Overrides};
use lab10_runs::{StopReason, utc_stamp};
use lab10_track::mlflow::{Access, Mlflow, TrackedRun};
use lab10_train::{StudyMember, find_completed_run};

use crate::cli::{Global, SlurmArgs, StudyArgs};
use crate::member::{MemberCommand, write_member_file};

/// How often a member may requeue itself: one whose epochs never fit is not requeued forever.
pub const MAX_REQUEUES: u32 = 20;

/// What the summary job runs: the study's own command with `--collect`.
pub enum Study<'a> {
    Group {
        name: &'a str,
        seeds: Option<&'a [u64]>,
    },
    Ensemble {
        experiment: &'a str,
        members: usize,
    },
}

impl Study<'_> {
    /// The kind and name of its MLflow parent run (`groups`, `lesson`).
    fn mlflow_name(&self) -> (&'static str, &str) {
        match self {
            Study::Group { name, .. } => ("groups", name),
            Study::Ensemble { experiment, .. } => ("ensembles", experiment),
        }
    }

    fn name(&self) -> String {
        match self {
            Study::Group { name, .. } => format!("group-{name}"),
            Study::Ensemble {
                experiment,
                members,
            } => format!("ensemble-{experiment}-n{members}"),
        }
    }

    fn collect_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = Vec::new();
        match self {
            Study::Group { name, seeds } => {
                args.extend(["train".into(), "--group".into(), (*name).into()]);
                if let Some(seeds) = seeds {
                    let list: Vec<String> = seeds.iter().map(u64::to_string).collect();
                    args.extend(["--seeds".into(), list.join(",").into()]);
                }
            }
            Study::Ensemble {
                experiment,
                members,
            } => {
                args.extend(["ensemble".into(), (*experiment).into()]);
                args.extend(["--members".into(), members.to_string().into()]);
            }
        }
        args.push("--collect".into());
        args
    }
}

/// The members to submit and everything their commands need.
pub struct Job<'a> {
    pub study: Study<'a>,
    pub members: &'a [StudyMember],
    /// Where the members' runs are (the artifacts folder of their dataset).
    pub runs: &'a Path,
    pub overrides: &'a Overrides,
    /// `--mlflow`: a parent run made at submission, which the summary job finishes.
    pub mlflow: Option<&'a Mlflow>,
}

/// Writes the job's folder and, unless `--slurm-dry-run`, submits it (or leaves no folder).
pub fn submit(g: &Global, job: &Job, study: &StudyArgs) -> Result<()> {
    let args = &study.slurm;
    let sbatch = find_on_path("sbatch");
    if sbatch.is_none() && !args.slurm_dry_run {
        bail!(
            "--slurm needs Slurm's `sbatch` on PATH, and this machine has none: submit from a \
             cluster's login node, or pass --slurm-dry-run to write and print the job's \
             scripts without submitting"
        );
    }
    let command = MemberCommand::new(g, g.backend()?, !study.no_reuse)?;
    let (reuse, backend) = (command.continue_own, command.backend.name());
    let mut todo: Vec<&Experiment> = Vec::new();
    for e in job.members.iter().map(|m| &m.experiment) {
        if !(reuse && find_completed_run(job.runs, e, backend)?.is_some()) {
            todo.push(e);
        }
    }
    let mut folder = JobFolder::new(job, command)?;
    let (parent, exports, secrets) = mlflow_parent(job, args.slurm_dry_run)?;
    folder.exports = exports;
    let dir = folder
        .write(&todo, args)
        .inspect_err(|_| fail_parent(parent.as_ref()))?;
    let done = job.members.len() - todo.len();
    let Some(sbatch) = sbatch.filter(|_| !args.slurm_dry_run) else {
        return print_dry_run(&dir, args, todo.len(), done);
    };
    let (array, summary) = submit_both(&sbatch, &dir, &args, todo.is_empty(), &secrets)
        .inspect_err(|_| {
            // Nothing runs from this folder: take it away, so no half-made job is left.
            let _ = std::fs::remove_dir_all(&dir);
            fail_parent(parent.as_ref());
        })?;
    announce(&dir, array, summary, todo.len(), done)
}

/// Variables the jobs get from sbatch's environment, never from a script on the shared disk.
type Secrets = Vec<(&'static str, String)>;

/// With `--mlflow`, the study's MLflow run (made now, for every task to name), its exports and
/// the credentials passed to sbatch ([`Access::VARS`]).
fn mlflow_parent(job: &Job, dry_run: bool) -> Result<(Option<TrackedRun>, String, Secrets)> {
    let Some(mlflow) = job.mlflow else {
        return Ok((None, String::new(), Vec::new()));
    };
    if dry_run {
        // Without the parent, members submitted by hand would log as runs of their own.
        let note = "# --mlflow: when submitted (not in a dry run), the study's MLflow run is \
                    made and exported here\n";
        return Ok((None, note.into(), Vec::new()));
    }
    let (kind, name) = job.study.mlflow_name();
    let dataset = job.members.first().map(|m| m.experiment.dataset.as_str());
    let parent = mlflow.open_parent(kind, name, dataset.unwrap_or(""), &[])?;
    let mut exports = String::from(
        "# MLflow: the members log as nested runs of the study's run (credentials, if any, \
         come with sbatch's environment).\n",
    );
    let mut secrets = Vec::new();
    for (var, value) in Mlflow::env(Some(&mlflow.nested(&parent))) {
        match value {
            Some(value) if Access::VARS.contains(&var) => secrets.push((var, value)),
            Some(value) => exports += &format!("export {var}={}\n", shell_word(&value)),
            None => {}
        }
    }
    Ok((Some(parent), exports, secrets))
}

/// `--slurm-dry-run`: the scripts as written, and what would have been submitted.
fn print_dry_run(dir: &Path, args: &SlurmArgs, todo: usize, done: usize) -> Result<()> {
    for script in [ARRAY_SCRIPT, SUMMARY_SCRIPT] {
        let path = dir.join(script);
        println!("==> {} <==", path.display());
        print!("{}", std::fs::read_to_string(&path)?);
    }
    if !args.sbatch_arg.is_empty() {
        println!("sbatch would also get: {}", args.sbatch_arg.join(" "));
    }
    println!(
        "wrote {} ({todo} members to train, {done} finished already); nothing submitted \
         (--slurm-dry-run)",
        dir.display(),
    );
    Ok(())
}

/// Records the job ids in jobs.json and says what was submitted and how to watch it.
fn announce(
    dir: &Path,
    array: Option<String>,
    summary: String,
    todo: usize,
    done: usize,
) -> Result<()> {
    let ids = serde_json::json!({"array": array, "summary": summary, "members": todo});
    lab10_data::atomic::write_atomically(&dir.join("jobs.json"), ids.to_string().as_bytes())
        .with_context(|| format!("cannot write {}", dir.join("jobs.json").display()))?;
    match &array {
        Some(id) => println!(
            "submitted job array {id} ({todo} members; {done} finished already, reused) and the \
             summary job {summary}, which runs after it"
        ),
        None => println!(
            "every member has finished already ({done}, reused): submitted only the summary \
             job {summary}"
        ),
    }
    println!(
        "job folder: {}\nlogs: {}/<array>_<task>.out (the members, in order: {}), \
         summary_<id>.out\nwatch: squeue --me; sacct -j {}",
        dir.display(),
        dir.join(LOGS).display(),
        dir.join(MEMBERS).display(),
        array.as_deref().unwrap_or(&summary)
    );
    Ok(())
}

const ARRAY_SCRIPT: &str = "array.sbatch";
const SUMMARY_SCRIPT: &str = "summary.sbatch";
const MEMBERS: &str = "members";
const LOGS: &str = "logs";
/// The array script's variable that holds its task's member file.
const MEMBER_VAR: &str = "$member";

/// A failed submission leaves its MLflow parent run FAILED (best effort).
fn fail_parent(parent: Option<&TrackedRun>) {
    if let Some(parent) = parent {
        let _ = parent.end_now("FAILED");
    }
}

/// Submits the array, then the summary after it; a refused summary cancels the array again.
fn submit_both(
    sbatch: &Path,
    dir: &Path,
    args: &SlurmArgs,
    no_members: bool,
    secrets: &Secrets,
) -> Result<(Option<String>, String)> {
    let submit = |script: &str, dependency: Option<String>| {
        let mut command = Command::new(sbatch);
        command.envs(secrets.iter().cloned()).args(dependency);
        sbatch_parsable(command, &args.sbatch_arg, &dir.join(script))
    };
    let array = (!no_members)
        .then(|| submit(ARRAY_SCRIPT, None))
        .transpose()?;
    let dependency = array
        .as_ref()
        .map(|id| format!("--dependency=afterany:{id}"));
    let summary = submit(SUMMARY_SCRIPT, dependency).inspect_err(|_| {
        if let Some(id) = &array {
            let _ = Command::new("scancel").arg(id).status();
        }
    })?;
    Ok((array, summary))
}

/// The job id `sbatch --parsable` prints (`ID` or `ID;CLUSTER`), or Slurm's own message.
fn sbatch_parsable(mut sbatch: Command, extra: &[String], script: &Path) -> Result<String> {
    let out = sbatch
        .arg("--parsable")
        .args(extra)
        .arg(script)
        .output()
        .with_context(|| format!("cannot run {}", sbatch.get_program().display()))?;
    if !out.status.success() {
        bail!(
            "sbatch refused {}: {} ({}); check the --sbatch-arg options",
            script.display(),
            String::from_utf8_lossy(&out.stderr).trim(),
            out.status
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let id = text.trim().split(';').next().unwrap_or_default();
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
        bail!("sbatch printed no job id for {}: {text}", script.display());
    }
    Ok(id.to_string())
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}

/// Where the job's files go, and the absolute paths its scripts name (for the nodes).
struct JobFolder {
    dir: PathBuf,
    cwd: PathBuf,
    /// How every lab10 of the job starts, members and summary alike.
    command: MemberCommand,
    /// The summary job's arguments: the study's own command with `--collect`.
    summary: Vec<OsString>,
    name: String,
    /// The `export` lines of both scripts (MLflow's variables, with `--mlflow`).
    exports: String,
}

impl JobFolder {
    fn new(job: &Job, command: MemberCommand) -> Result<Self> {
        let runs = std::path::absolute(job.runs)
            .with_context(|| format!("cannot resolve {}", job.runs.display()))?;
        let mut summary = command.global.clone();
        summary.extend(job.study.collect_args());
        summary.extend(job.overrides.to_args().into_iter().map(OsString::from));
        summary.extend(["--backend".into(), command.backend.name().into()]);
        let name = job.study.name();
        Ok(Self {
            dir: runs.join("slurm").join(format!("{name}-{}", utc_stamp())),
            cwd: std::env::current_dir().context("cannot read the current folder")?,
            command,
            summary,
            name,
            exports: String::new(),
        })
    }

    /// Writes the folder in a temporary place, then moves it where it belongs.
    fn write(&self, todo: &[&Experiment], args: &SlurmArgs) -> Result<PathBuf> {
        let parent = self.dir.parent().expect("the job folder has a parent");
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
        if self.dir.exists() {
            bail!(
                "{} exists already; submit again in a second",
                self.dir.display()
            );
        }
        let tmp = tempfile::Builder::new()
            .prefix(".lab10-slurm-")
            .tempdir_in(parent)
            .with_context(|| format!("cannot create a folder in {}", parent.display()))?;
        std::fs::create_dir(tmp.path().join(MEMBERS))?;
        std::fs::create_dir(tmp.path().join(LOGS))?;
        let mut files = Vec::new();
        for (i, member) in todo.iter().enumerate() {
            let written = write_member_file(&tmp.path().join(MEMBERS), i, member)?;
            let name = written.file_name().expect("a file name");
            files.push(self.dir.join(MEMBERS).join(name));
        }
        std::fs::write(
            tmp.path().join(ARRAY_SCRIPT),
            self.array_script(&files, args),
        )?;
        std::fs::write(tmp.path().join(SUMMARY_SCRIPT), self.summary_script())?;
        let tmp = tmp.keep();
        std::fs::rename(&tmp, &self.dir)
            .with_context(|| format!("cannot move the job folder to {}", self.dir.display()))?;
        Ok(self.dir.clone())
    }

    fn header(&self, job_name: &str, output: &str) -> String {
        format!(
            "#!/bin/bash\n#SBATCH --job-name={job_name}\n#SBATCH --output={}\n\
             #SBATCH --chdir={}\n",
            self.dir.join(LOGS).join(output).display(),
            shell_word(&self.cwd.to_string_lossy())
        )
    }

    /// The command line `words` as bash, each word quoted except `$member` (a script variable).
    fn shell_line(&self, words: &[OsString]) -> String {
        std::iter::once(self.command.exe.as_os_str())
            .chain(words.iter().map(OsString::as_os_str))
            .map(|w| match w.to_string_lossy() {
                w if w == MEMBER_VAR => format!("\"{w}\""),
                w => shell_word(&w),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn array_script(&self, members: &[PathBuf], args: &SlurmArgs) -> String {
        let preempted = StopReason::Preempt.exit_code();
        let list: Vec<String> = members
            .iter()
            .map(|m| format!("  {}", shell_word(&m.to_string_lossy())))
            .collect();
        let mut s = self.header(&format!("lab10-{}", self.name), "%A_%a.out");
        s += &format!(
            "#SBATCH --array=0-{}\n#SBATCH --requeue\n#SBATCH --open-mode=append\n\
             #SBATCH --signal=B:USR1@{}\n",
            members.len().saturating_sub(1),
            args.slurm_signal
        );
        s += &self.exports;
        s += &format!(
            r#"
# One task per member: members[task] is its experiment (seed, dataset and overrides set).
# SIGUSR1 ({secs} s before the time limit) and SIGTERM (preemption, scancel) stop the member
# after its current step with its complete checkpoints saved; after SIGUSR1 the task requeues
# itself, at most {max} times. Every start runs `lab10 train --continue`, which resumes the
# member's own run, so each epoch is trained once.
set -u
members=(
{list}
)
member=${{members[$SLURM_ARRAY_TASK_ID]}}
echo "lab10: task ${{SLURM_ARRAY_JOB_ID}}_${{SLURM_ARRAY_TASK_ID}}, start $((${{SLURM_RESTART_COUNT:-0}} + 1)), on $(hostname): $member"
{command} &
child=$!
trap 'kill -USR1 "$child" 2>/dev/null' USR1
trap 'kill -TERM "$child" 2>/dev/null' TERM
while :; do
  wait "$child"
  status=$?
  # A trapped signal ends `wait` early: wait again until the member has exited.
  kill -0 "$child" 2>/dev/null || break
done
if [ "$status" -eq {preempted} ]; then
  if [ "${{SLURM_RESTART_COUNT:-0}}" -lt {max} ]; then
    echo "lab10: requeueing task ${{SLURM_ARRAY_JOB_ID}}_${{SLURM_ARRAY_TASK_ID}}; it resumes from its last checkpoint"
    scontrol requeue "${{SLURM_ARRAY_JOB_ID}}_${{SLURM_ARRAY_TASK_ID}}"
  else
    echo "lab10: requeued {max} times already; not again"
  fi
fi
exit "$status"
"#,
            secs = args.slurm_signal,
            max = MAX_REQUEUES,
            list = list.join("\n"),
            command = self.shell_line(&self.command.train_args(MEMBER_VAR.into())),
        );
        s
    }

    fn summary_script(&self) -> String {
        let mut s = self.header(&format!("lab10-{}-summary", self.name), "summary_%j.out");
        s += &self.exports;
        s += &format!(
            "\n# The summary from the members' finished runs; the missing ones are named.\n{}\n",
            self.shell_line(&self.summary)
        );
        s
    }
}

/// `word` as one word for bash: as it is when it is plainly safe, else in single quotes.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-=,:+@%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}
