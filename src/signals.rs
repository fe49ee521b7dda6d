//! Ctrl-C, SIGTERM, SIGUSR1: during training the first asks to stop after the current step
//! ([`Stop`]); a second one, or one during any other command, exits at once.

use std::io::{IsTerminal, Write};

use anyhow::{Context, Result};
use lab10_experiment::Stop;
use lab10_runs::StopReason;
use signal_hook::consts::{SIGINT, SIGTERM, SIGUSR1};
use signal_hook::iterator::Signals;

/// Starts the thread that turns signals into stop requests.
pub fn install(stop: Stop, graceful: bool) -> Result<()> {
    // The terminal as it is now, before any TUI: what an immediate exit puts back.
    let stdout = std::io::stdout();
    let terminal = stdout
        .is_terminal()
        .then(|| rustix::termios::tcgetattr(&stdout).ok())
        .flatten();
    let mut signals =
        Signals::new([SIGINT, SIGTERM, SIGUSR1]).context("cannot install signal handlers")?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                let reason = match signal {
                    SIGTERM => StopReason::Terminate,
                    SIGUSR1 => StopReason::Preempt,
                    _ => StopReason::Interrupt,
                };
                if graceful && stop.request(reason) {
                    eprintln!(
                        "\n{}: stopping after the current step and saving what is complete \
                         (press Ctrl-C again to quit at once)",
                        reason.signal_name()
                    );
                    continue;
                }
                exit_now(reason, terminal.as_ref());
            }
        })
        .context("cannot start the signal thread")?;
    Ok(())
}

fn exit_now(reason: StopReason, terminal: Option<&rustix::termios::Termios>) -> ! {
    lab10_data::atomic::remove_pending();
    // The members of --jobs go too.
    crate::jobs::kill_children();
    if let Some(saved) = terminal {
        let mut out = std::io::stdout();
        let _ = rustix::termios::tcsetattr(&out, rustix::termios::OptionalActions::Now, saved);
        // Mouse reporting off, the main screen back, the cursor shown: what the TUI turned on.
        let _ = out.write_all(b"\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1049l\x1b[?25h");
        let _ = out.flush();
    }
    eprintln!("\n{}: exiting at once", reason.signal_name());
    std::process::exit(reason.exit_code().into())
}
