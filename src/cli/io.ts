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
