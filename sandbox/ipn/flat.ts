// Stores a string built piece by piece as one flat string, for strings that are kept by the thousand.

/**
 * The same string, made flat. A string built with `+=` is a tree of its pieces (a rope) in V8, several times the
 * size of its text, until something reads it whole; an IPN's body and hashed string are built so and then kept in
 * the delivery record, and a burst queues thousands of them for a few sockets. Reading one character makes V8
 * flatten the string in place, and the garbage collector then drops the pieces.
 */
export function flat(text: string): string {
  text.charCodeAt(0);
  return text;
}
