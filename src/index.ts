/** The library: enter a namespace for the length of a block (see namespace.ts). */

export { NsenterError } from "./errors.ts";
export { Namespace, type NamespaceOptions } from "./namespace.ts";
export type { NamespaceKind } from "./namespaces.ts";
