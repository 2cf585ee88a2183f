/**
 * Logger writes klog-style text lines to stderr, as upstream components do:
 * `I1124 00:15:15.525108   12345 server.ts] "Message" key="value"`.
 * Components receive a Logger; only src/cli/ creates them.
 */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warning(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** v(n) returns a logger that writes only when the verbosity is at least n (like klog.V(n)). */
  v(level: number): Logger;
  /** enabled(n) tells whether V(n) lines are written, to skip building expensive values. */
  enabled(level: number): boolean;
  /** withSource returns a logger that names another source file in its header. */
  withSource(source: string): Logger;
}

export interface LoggerOptions {
  /** Verbosity, as upstream's -v. */
  verbosity: number;
  /** Source name printed in the header, e.g. `server.go`-style `proxier.ts`. */
  source: string;
  /** Where lines go; stderr by default. */
  write?: (line: string) => void;
}

const SILENT: Logger = {
  info() {},
  warning() {},
  error() {},
  v() {
    return SILENT;
  },
  enabled() {
    return false;
  },
  withSource() {
    return SILENT;
  },
};

/** createLogger builds a Logger for one component. */
export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  function emit(severity: string, source: string, message: string, fields?: Record<string, unknown>): void {
    write(`${header(severity, source)} ${JSON.stringify(message)}${formatFields(fields)}\n`);
  }
  function make(source: string): Logger {
    return {
      info: (m, f) => emit('I', source, m, f),
      warning: (m, f) => emit('W', source, m, f),
      error: (m, f) => emit('E', source, m, f),
      v: (level) => (level <= options.verbosity ? make(source) : SILENT),
      enabled: (level) => level <= options.verbosity,
      withSource: (s) => make(s),
    };
  }
  return make(options.source);
}

/** silentLogger discards everything (for tests and library callers that do not log). */
export function silentLogger(): Logger {
  return SILENT;
}

function header(severity: string, source: string): string {
  const d = new Date();
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const micros = `${pad(d.getMilliseconds(), 3)}000`;
  return `${severity}${pad(d.getMonth() + 1)}${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${micros} ${String(process.pid).padStart(7)} ${source}]`;
}

function formatFields(fields: Record<string, unknown> | undefined): string {
  if (fields === undefined) return '';
  let out = '';
  for (const [key, value] of Object.entries(fields)) {
    let text: string;
    if (value instanceof Error) text = JSON.stringify(value.message);
    else if (typeof value === 'string') text = JSON.stringify(value);
    else if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined)
      text = String(value);
    else text = JSON.stringify(value);
    out += ` ${key === 'error' ? 'err' : key}=${text}`;
  }
  return out;
}
