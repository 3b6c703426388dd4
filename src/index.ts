/** The library: enter a namespace for the length of a block (see library.ts). */

export { type ErrorForm, NsenterError } from "./errors.ts";
export { type LibraryKind, Namespace, type NamespaceOptions, StillInside } from "./library.ts";
export type { NamespaceKind } from "./namespaces.ts";
