/** Size limits applied while parsing; over a limit the parser answers 400/413/513 or drops. */
export interface MessageLimits {
  /** Largest message (start line, headers and body) in bytes. */
  maxMessageSize: number;
  /** Most header lines in one message. */
  maxHeaders: number;
  /** Longest header line (after unfolding), in characters. */
  maxHeaderLineLength: number;
  /** Most Via values in one message. */
  maxVia: number;
}

export const DEFAULT_LIMITS: Readonly<MessageLimits> = Object.freeze({
  maxMessageSize: 65536,
  maxHeaders: 256,
  maxHeaderLineLength: 8192,
  maxVia: 70,
});
