//! `virt-store`: plug the persistent `wasi:keyvalue` provider into a component, run it, and look
//! after the store it keeps.

mod components;
#[cfg(feature = "run")]
mod run_command;
mod store_tools;

use clap::Parser;
use components::{CheckCommand, PlugCommand, ProviderCommand};
#[cfg(feature = "run")]
use run_command::RunCommand;
use std::process::ExitCode;
use store_tools::{
    DeleteCommand, ExportCommand, FsckCommand, GetCommand, ImportCommand, InspectCommand,
    ListCommand, SetCommand,
};

#[derive(Parser)]
#[command(name = "virt-store", version, about, long_about = None)]
enum Command {
    // Each subcommand's help is the doc comment of its struct.
    Plug(PlugCommand),
    Provider(ProviderCommand),
    Check(CheckCommand),
    #[cfg(feature = "run")]
    Run(RunCommand),
    List(ListCommand),
    Get(GetCommand),
    Set(SetCommand),
    Delete(DeleteCommand),
    Export(ExportCommand),
    Import(ImportCommand),
    Inspect(InspectCommand),
    Fsck(FsckCommand),
}

fn main() -> ExitCode {
    let result = match Command::parse() {
        Command::Plug(command) => command.exec(),
        Command::Provider(command) => command.exec(),
        Command::Check(command) => command.exec(),
        #[cfg(feature = "run")]
        Command::Run(command) => command.exec(),
        Command::List(command) => command.exec(),
        Command::Get(command) => command.exec(),
        Command::Set(command) => command.exec(),
        Command::Delete(command) => command.exec(),
        Command::Export(command) => command.exec(),
        Command::Import(command) => command.exec(),
        Command::Inspect(command) => command.exec(),
        Command::Fsck(command) => command.exec(),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    /// clap checks the definition (ids, conflicts, `run`'s `mut_arg` of the flattened `--data`)
    /// only when a command line is parsed, and fully only in debug builds.
    #[test]
    fn the_command_line_is_well_formed() {
        <super::Command as clap::CommandFactory>::command().debug_assert();
    }
}
