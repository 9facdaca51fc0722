export function isNode(x: unknown): boolean;
/** Child nodes in source order, each with the key of the parent that holds it. */
export function children(node: any): { node: any; key: string }[];
export function isFunction(node: any): boolean;
/** Is this Identifier, reached as parent[key], a name that is not a variable reference (property, label)? */
export function notAReference(parent: any, key: string): boolean;
