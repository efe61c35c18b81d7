/** Where a command writes; the real process streams in `main`, buffers in tests. */
export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
  /**
   * Whether `err` reaches a terminal: progress lines are written there only then (or when asked
   * for), so that logs and pipes stay free of them. Absent means no.
   */
  readonly errIsTerminal?: boolean;
}

// Control characters are exactly what must be matched here.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g;
// eslint-disable-next-line no-control-regex
const CONTROL_OR_NEWLINE = /[\u0000-\u001f\u007f-\u009f]/g;

const escaped = (character: string): string => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * Writes control characters (C0, DEL, C1) as `\u001b`-style escapes, so that a file name, field
 * name or value echoed back can neither drive the terminal (ESC sequences) nor forge output.
 * Newlines are kept unless `newlines` is true: they separate the command's own lines. JSON output
 * stays valid JSON with the same meaning: outside strings JSON.stringify writes no control character
 * but newline, and `\u007f` inside a string is the character itself.
 */
export function escapeControl(text: string, newlines = false): string {
  return text.replace(newlines ? CONTROL_OR_NEWLINE : CONTROL, escaped);
}

/** The same streams, with every control character but newline escaped: what `main` hands a command. */
export function escapingIo(io: CommandIo): CommandIo {
  return {
    out: (text) => {
      io.out(escapeControl(text));
    },
    err: (text) => {
      io.err(escapeControl(text));
    },
    ...(io.errIsTerminal === undefined ? {} : { errIsTerminal: io.errIsTerminal }),
  };
}
