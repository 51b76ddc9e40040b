/**
 * The part of node:path (POSIX) the compiler uses, for the browser: module paths in the
 * playground are plain strings like `fixtures/staged.ts`, never on a disk.
 */
export function normalize(path: string): string {
  const absolute = path.startsWith("/");
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!absolute) out.push("..");
    } else out.push(part);
  }
  const joined = out.join("/");
  return absolute ? `/${joined}` : joined || ".";
}

export const join = (...parts: string[]): string => normalize(parts.filter((p) => p !== "").join("/"));

export function dirname(path: string): string {
  const i = path.replace(/\/+$/, "").lastIndexOf("/");
  if (i < 0) return ".";
  return i === 0 ? "/" : path.slice(0, i);
}

export function basename(path: string, ext?: string): string {
  const base = path.replace(/\/+$/, "").split("/").pop() ?? "";
  return ext !== undefined && base.endsWith(ext) && base !== ext ? base.slice(0, -ext.length) : base;
}

export function relative(from: string, to: string): string {
  const a = normalize(from).split("/").filter((p) => p !== "." && p !== "");
  const b = normalize(to).split("/").filter((p) => p !== "." && p !== "");
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return [...a.slice(i).map(() => ".."), ...b.slice(i)].join("/");
}

export const posix = { normalize, join, dirname, basename, relative, sep: "/" };
export default posix;
