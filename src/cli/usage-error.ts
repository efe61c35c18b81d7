/** A wrong command line: the command prints its message and usage hint and exits with status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
