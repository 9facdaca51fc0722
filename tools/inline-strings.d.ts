export function inlineStringConstants(code: string): { code: string; magic: unknown; inlined: string[] } | null;
export function inlineStrings(): { name: string; renderChunk(code: string): { code: string; map: unknown } | null };
