export function unwrapClasses(): { name: string; transform(code: string, id?: string): { code: string; map: unknown } | null };
