/** Where a command writes; the real process streams in `main`, buffers in tests. */
export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
}
