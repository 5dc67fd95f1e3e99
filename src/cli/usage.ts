/** Usage texts of the subcommands: kept apart so `mpcd help` loads none of the commands' code. */

export const SIM_ROBOT_USAGE = `  mpcd sim-robot <config> [--mqtt URL | --serial PATH] [--fault SPEC]... [--record FILE] [--seed S] [--duration SECONDS] [--json]
      the virtual robot: the config's virtual_robot (MuJoCo) in real time on the robot's side of its
      mqtt or serial plant, until SIGINT/SIGTERM or --duration; --serial is the robot's end of the pty.
      --fault KIND[/CHANNEL]:ARG[@START[+DURATION]] (drop, delay, duplicate, reorder, corrupt, stop, freeze,
      garbage_stamp, clock_step, reboot, flood), e.g. corrupt:0.1, stop:2.0@3.0, garbage_stamp/pole:1e6@3,
      clock_step:-5@3, reboot:1.0@3, flood:10000@3+1 (times in s after the first arm); --record FILE
      appends what it received and applied, one JSON line per event
`;

export const TRAIN_USAGE = `  mpcd train <log files or folders>... --config CFG [--model-dir DIR] [--value-only] [--json]
      fit the residual model on recorded transition logs (.mcap) and save it as a new version,
      accepted when it beats the current model on the most recent transitions;
      --value-only: keep the current model's residual and fit only its terminal value (learning.value)
`;

export const MODEL_USAGE = `  mpcd model list [--config CFG] [--model-dir DIR] [--json]
      the stored model versions: data, validation score vs the previous model, problems;
      * marks the one the daemon starts from
  mpcd model use <version> | --latest [--config CFG] [--model-dir DIR] [--json]
      pin a version (rollback), or unpin so the newest accepted one is used
`;
