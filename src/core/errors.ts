/**
 * The one error class of mpcd. `code` is a stable machine-readable string; the message says
 * what went wrong and what to do about it. Thrown only at the edges (config, files, transports).
 */
export class MpcdError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details: readonly string[] = [],
  ) {
    super(details.length > 0 ? `${message}\n  - ${details.join('\n  - ')}` : message);
    this.name = 'MpcdError';
  }
}
