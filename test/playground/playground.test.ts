/**
 * The playground in a real browser: the page is built once, served by a plain static file
 * server on the loopback address, and loaded in headless Chromium (Debian's, at
 * /usr/bin/chromium, or CHROMIUM_PATH), with every request off this machine refused so
 * the page is shown to work offline. Screenshots of the staged example and of an error are
 * saved in playground/screenshots/.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPlayground } from "../../playground/build.mts";

const root = new URL("../../", import.meta.url).pathname;
const dist = join(root, "playground/dist");
const shots = join(root, "playground/screenshots");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const TYPES: Record<string, string> = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".txt": "text/plain" };

let server: Server;
let browser: Browser;
let page: Page;
let base: string;
let firstLoadMs = 0;
const offMachine: string[] = [];

/** Serves playground/dist as files, nothing else. */
function serve(): Promise<string> {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const path = normalize(join(dist, url.pathname === "/" ? "index.html" : url.pathname));
    if (!path.startsWith(dist) || !existsSync(path)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": TYPES[extname(path)] ?? "application/octet-stream" }).end(readFileSync(path));
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)));
}

/** The numbers on the picture's wires, by the variable's name: [value, gradient]. */
async function wiresByName(p: Page): Promise<Record<string, [number[], number[] | null]>> {
  return p.$$eval("#graph g.wire[data-name]", (gs) => Object.fromEntries(gs
    .filter((g) => g.getAttribute("data-role") !== "branch")
    .map((g) => [g.getAttribute("data-name"), [JSON.parse(g.getAttribute("data-value")!), g.hasAttribute("data-grad") ? JSON.parse(g.getAttribute("data-grad")!) : null]])));
}

// what runs in the page is written as text: this file is type-checked without the DOM's types
const codeText = (p: Page) => p.evaluate("window.tsgradPlayground.code()") as Promise<string>;

async function replaceSource(p: Page, text: string) {
  await p.click("#editor .cm-content");
  await p.keyboard.press("Control+a");
  await p.keyboard.press("Delete");
  await p.keyboard.insertText(text);
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium package (apt-get install chromium), or set CHROMIUM_PATH`);
  await buildPlayground(dist);
  base = await serve();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  page = await browser.newPage({ viewport: { width: 1500, height: 1100 } });
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(base)) return route.continue();
    offMachine.push(url);
    return route.abort();
  });
  const start = Date.now();
  await page.goto(base);
  await page.waitForSelector("#graph svg", { timeout: 120_000 });
  firstLoadMs = Date.now() - start;
  mkdirSync(shots, { recursive: true });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
});

describe("the playground in headless Chromium", () => {
  it("opens on the staged example: its f_grad, and the graph at x=3, y=-4 with the seeds' numbers", async () => {
    console.log(`playground first load (page to first graph): ${firstLoadMs} ms`);
    expect(await codeText(page)).toContain("export function staged_grad(x: number, y: number, dout = 1)");
    const wires = await wiresByName(page);
    expect(wires.x![0]).toEqual([3]);
    expect(wires.y![0]).toEqual([-4]);
    expect(wires.x![1]![0]).toBeCloseTo(2.0595, 3);
    expect(wires.y![1]![0]).toBeCloseTo(1.5922, 3);
    expect(await page.textContent("#graph svg")).toContain("2.06 = 0.512 - 0.0358 + 1.58");
    await page.screenshot({ path: join(shots, "staged.png"), fullPage: true });
    expect(offMachine).toEqual([]);
  });

  it("updates the gradient and the picture as a function is typed, and keeps it in the URL", async () => {
    const typed = Date.now();
    await replaceSource(page, "/** @differentiable */\nexport function f(x: number, y: number): number {\n  const q = x * y;\n  return q + Math.exp(x);\n}\n");
    await page.waitForFunction('window.tsgradPlayground.code().includes("export function f_grad")', undefined, { timeout: 30_000 });
    console.log(`playground: a new function typed to its f_grad shown: ${Date.now() - typed} ms (of which 250 ms waiting for typing to pause)`);
    expect(await codeText(page)).toContain("const dq = dout;");
    await page.fill("#at-x", "2");
    const edited = Date.now();
    await page.fill("#at-y", "5");
    await page.waitForFunction(`document.querySelector('#graph g.wire[data-name="q"]')?.getAttribute("data-value") === "[10]"`, undefined, { timeout: 30_000 });
    console.log(`playground: a value edited to the graph redrawn: ${Date.now() - edited} ms`);
    const wires = await wiresByName(page);
    expect(wires.x![1]![0]).toBeCloseTo(5 + Math.exp(2), 10);
    expect(wires.y![1]).toEqual([2]);
    // a link opens the same function at the same point
    const link = page.url();
    const other = await browser.newPage();
    await other.goto(link);
    await other.waitForSelector('#graph g.wire[data-name="q"]', { timeout: 60_000 });
    expect((await wiresByName(other)).q![0]).toEqual([10]);
    await other.close();
  });

  it("underlines an error where it is and says what to write instead", async () => {
    await replaceSource(page, "/** @differentiable */\nexport function f(x: number): number {\n  const noise = Math.random();\n  return noise * x;\n}\n");
    await page.waitForSelector("#errors:not([hidden])", { timeout: 30_000 });
    const errors = await page.textContent("#errors");
    expect(errors).toMatch(/^3:\d+: error: /);
    await page.waitForSelector("#editor .cm-lintRange-error", { timeout: 30_000 });
    expect(await page.$eval("#editor .cm-lintRange-error", (el) => el.closest(".cm-line")?.textContent)).toContain("const noise = Math.random();");
    expect(await page.$$("#graph svg")).toHaveLength(0);
    expect(await page.textContent("#graph-errors")).toContain("fix the errors above");
    await page.screenshot({ path: join(shots, "error.png"), fullPage: true });
  });

  it("loads the seeds' examples with one click, a custom gradient too", async () => {
    await page.click('#examples button[data-fn="gates"]');
    await page.waitForFunction(`document.querySelector('#graph g.wire[data-name="x"]')?.getAttribute("data-grad") === "[-8]"`, undefined, { timeout: 30_000 });
    const wires = await wiresByName(page);
    expect([wires.x![1], wires.y![1], wires.z![1], wires.w![1]]).toEqual([[-8], [6], [2], [0]]);
    expect(await codeText(page)).toContain("export function gates_grad");
    // the notes' SquareFunction: the graph runs the module's own backward, 2 · x · dout
    await page.click('#examples button[data-fn="square"]');
    await page.waitForFunction(`document.querySelector('#graph g.wire[data-name="x"]')?.getAttribute("data-grad") === "[4]"`, undefined, { timeout: 30_000 });
    expect(await page.textContent("#graph svg")).toContain("square");
    expect(offMachine).toEqual([]);
  });
});
