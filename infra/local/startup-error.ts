/**
 * A known reason the local runtime cannot start (no Java, a port in use, a broken config file). Its
 * message is one line an operator can act on, so `npm start` prints it without a stack trace.
 */
export class StartupError extends Error {
  override name = 'StartupError';
}
