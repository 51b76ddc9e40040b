/**
 * What the page shows, kept in the URL's hash so a link shares it: the source, the chosen
 * function, the point (one value text per parameter), the upstream gradient, and whether
 * loops are unrolled.
 */
export interface State {
  source: string;
  fn: string;
  at: Record<string, string>;
  dout: string;
  unroll: boolean;
}

const toBase64Url = (text: string) => {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
};

const fromBase64Url = (text: string) => {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
};

export function writeHash(state: State): void {
  const hash = `#s=${toBase64Url(JSON.stringify(state))}`;
  if (location.hash !== hash) history.replaceState(null, "", hash);
}

export function readHash(): State | null {
  const m = /^#s=([A-Za-z0-9_-]+)$/.exec(location.hash);
  if (!m) return null;
  try {
    const s = JSON.parse(fromBase64Url(m[1]!)) as Partial<State>;
    if (typeof s.source !== "string") return null;
    return { source: s.source, fn: s.fn ?? "", at: s.at ?? {}, dout: s.dout ?? "", unroll: s.unroll ?? false };
  } catch {
    return null;
  }
}

/** `x=3,y=-4` as one text per parameter. */
export function splitPoint(at: string): Record<string, string> {
  const out: Record<string, string> = {};
  let depth = 0;
  let start = 0;
  const parts: string[] = [];
  for (let i = 0; i < at.length; i++) {
    if (at[i] === "[") depth++;
    else if (at[i] === "]") depth--;
    else if (at[i] === "," && depth === 0) {
      parts.push(at.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(at.slice(start));
  for (const p of parts) {
    const eq = p.indexOf("=");
    if (eq > 0) out[p.slice(0, eq).trim()] = p.slice(eq + 1).trim();
  }
  return out;
}
