/** The {@code drivekd} command: one executable jar with a subcommand per job. */
package dev.drivekd.examples.cli;
