//! The `kafkasim` binary: parse the command line, call the library, map the outcome to an exit
//! code (0 ok, 1 an expectation failed, 2 invalid input).

mod cli;

use clap::Parser;
use cli::{AssignFormatArg, Cli, Command, ConfigSetArg, PartitionFormatArg, TraceFormatArg};
use kafkasim::commands::{
    self, AssignArgs, AssignFormat, CheckArgs, CheckHistoryArgs, DescribeArgs, Exit, MatrixArgs,
    PartitionArgs, PartitionFormat, RunArgs, SweepArgs,
};
use kafkasim::trace::TraceFormat;
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut err = std::io::stderr();
    let result = match cli.command {
        Command::Run {
            file,
            seed,
            out: out_dir,
            until,
            format,
            no_trace,
            max_events,
            set,
            png,
            deny_warnings,
            history,
        } => {
            let format = match format {
                TraceFormatArg::Text => TraceFormat::Text,
                TraceFormatArg::Jsonl => TraceFormat::Jsonl,
            };
            let args = RunArgs {
                file,
                seed,
                out_dir,
                until,
                format,
                max_events,
                no_trace,
                set,
                png,
                deny_warnings,
                history,
            };
            commands::run(&args, &mut out, &mut err)
        }
        Command::Check {
            paths,
            seed,
            max_events,
            set,
            deny_warnings,
        } => commands::check(
            &CheckArgs {
                paths,
                seed,
                max_events,
                set,
                deny_warnings,
            },
            &mut out,
            &mut err,
        ),
        Command::CheckHistory {
            history,
            scenario,
            tolerance,
            json,
        } => commands::check_history(
            &CheckHistoryArgs {
                history,
                scenario,
                tolerance,
                json,
            },
            &mut out,
        ),
        Command::Matrix {
            file,
            seeds,
            seed,
            threads,
            deny_warnings,
        } => commands::matrix(
            &MatrixArgs {
                file,
                seeds,
                seed,
                threads,
                deny_warnings,
            },
            &mut out,
            &mut err,
        ),
        Command::Sweep {
            file,
            vary,
            seeds,
            seed,
            threads,
            throughput_of,
            latency_of,
            out: out_dir,
            png,
            deny_warnings,
        } => commands::sweep(
            &SweepArgs {
                file,
                vary,
                seeds,
                seed,
                threads,
                throughput_of,
                latency_of,
                out_dir,
                png,
                deny_warnings,
            },
            &mut out,
            &mut err,
        ),
        Command::Describe {
            file,
            at,
            seed,
            deny_warnings,
            log_dirs,
        } => commands::describe(
            &DescribeArgs {
                file,
                at,
                seed,
                deny_warnings,
                log_dirs,
            },
            &mut out,
            &mut err,
        ),
        Command::Partition {
            partitions,
            format,
            keys,
        } => {
            let format = match format {
                PartitionFormatArg::Text => PartitionFormat::Text,
                PartitionFormatArg::Tsv => PartitionFormat::Tsv,
            };
            let args = PartitionArgs {
                partitions,
                keys,
                format,
            };
            commands::partition(&args, &mut std::io::stdin().lock(), &mut out)
        }
        Command::Assign {
            strategy,
            partitions,
            format,
            members,
        } => {
            let format = match format {
                AssignFormatArg::Text => AssignFormat::Text,
                AssignFormatArg::Json => AssignFormat::Json,
            };
            let args = AssignArgs {
                strategy,
                partitions,
                members,
                format,
            };
            commands::assign(&args, &mut out)
        }
        Command::List => commands::list(&mut out),
        Command::Plan { file, seed, set } => commands::plan(&file, seed, &set, &mut out),
        Command::Configs { set } => {
            let which = set.map(|s| match s {
                ConfigSetArg::Producer => "producer",
                ConfigSetArg::Consumer => "consumer",
                ConfigSetArg::Broker => "broker",
                ConfigSetArg::Topic => "topic",
            });
            commands::configs(which, &mut out)
        }
    };
    let _ = out.flush();
    match result {
        Ok(Exit::Ok) => ExitCode::SUCCESS,
        Ok(Exit::Failed) => ExitCode::from(1),
        Ok(Exit::Livelock) => ExitCode::from(3),
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            let _ = write!(err, "{e}");
            ExitCode::from(2)
        }
    }
}
