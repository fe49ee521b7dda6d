//! Why a process was asked to stop (Ctrl-C, SIGTERM, a scheduler's SIGUSR1), as errors and
//! reports name it; lab10-experiment's `Stop` carries the request to the training.

/// Why the process was asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// SIGINT: Ctrl-C.
    Interrupt,
    /// SIGTERM: `kill`, a service manager, a job scheduler.
    Terminate,
    /// "Stop the training" in the 'q' menu of Burn's TUI.
    Menu,
    /// SIGUSR1: a job scheduler's warning that the job's time is nearly up (Slurm's
    /// `--signal=USR1@SECONDS`); the job requeues itself and resumes.
    Preempt,
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

    pub fn code(self) -> u8 {
        match self {
            StopReason::Interrupt => 1,
            StopReason::Terminate => 2,
            StopReason::Menu => 3,
            StopReason::Preempt => 4,
        }
    }

    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(StopReason::Interrupt),
            2 => Some(StopReason::Terminate),
            3 => Some(StopReason::Menu),
            4 => Some(StopReason::Preempt),
            _ => None,
        }
    }
}
