/** `papers … | head` closes stdout early: that is the reader's choice, not a failure of the command. */
export function isClosedPipe(error: Error): boolean {
  return 'code' in error && error.code === 'EPIPE';
}
