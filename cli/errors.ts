/** A mistake on the command line or in what it names: printed as one line, exit code 1. */
export class CliError extends Error {
  override name = 'CliError';
}
