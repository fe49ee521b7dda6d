//! Why a process was asked to stop (Ctrl-C, SIGTERM, a scheduler's SIGUSR1), as errors and
//! reports name it; lab10-experiment's `Stop` carries the request to the training.

/// Why the process was asked to stop.
/// Its `u8` (`as u8`, never 0) is how lab10-experiment's `Stop` keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum StopReason {
    /// SIGINT: Ctrl-C.
    Interrupt = 1,
    /// SIGTERM: `kill`, a service manager, a job scheduler.
    Terminate = 2,
    /// "Stop the training" in the 'q' menu of Burn's TUI.
    Menu = 3,
    /// SIGUSR1: a job scheduler's warning that the job's time is nearly up (Slurm's
    /// `--signal=USR1@SECONDS`); the job requeues itself and resumes.
    Preempt = 4,
}

impl StopReason {
    /// The shell's convention: 128 + the signal's number.
    pub fn exit_code(self) -> u8 {
        match self {
            StopReason::Interrupt | StopReason::Menu => 130,
            StopReason::Terminate => 143,
            StopReason::Preempt => 138,
        }
    }

    pub fn signal_name(self) -> &'static str {
        match self {
            StopReason::Interrupt => "SIGINT",
            StopReason::Terminate => "SIGTERM",
            StopReason::Menu => "the TUI's menu",
            StopReason::Preempt => "SIGUSR1",
        }
    }

    pub fn from_code(code: u8) -> Option<Self> {
        [Self::Interrupt, Self::Terminate, Self::Menu, Self::Preempt]
            .into_iter()
            .find(|r| *r as u8 == code)
    }
}
