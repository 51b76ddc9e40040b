/**
 * The playground page: an editor with the user's function, the generated gradient updating
 * as they type, errors underlined where they are, the point's values to edit, and the graph
 * at that point. Everything runs here (compiler, formatter, layout): no server.
 */
import { basicSetup, EditorView } from "codemirror";
import { javascript } from "@codemirror/lang-javascript";
import { lintGutter, setDiagnostics, type Diagnostic } from "@codemirror/lint";
import { EditorState, type Text } from "@codemirror/state";
import examples from "virtual:examples";
import type { FunctionIR } from "../../compiler/ir/ir.ts";
import { compileSource, graphOf, type Located } from "./run.ts";
import { readHash, splitPoint, writeHash, type State } from "./state.ts";

interface Example {
  title: string;
  file: string;
  fn: string;
  at: string;
  dout?: string;
  unroll?: number;
  source: string;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const first = (examples as Example[])[0]!;
const fromExample = (e: Example): State => ({ source: e.source, fn: e.fn, at: splitPoint(e.at), dout: e.dout ?? "", unroll: (e.unroll ?? 0) > 0 });
let state: State = readHash() ?? fromExample(first);
/** The parameters of the function drawn, in order. */
let params: string[] = [];

const code = new EditorView({
  parent: $("code"),
  state: EditorState.create({ doc: "", extensions: [basicSetup, javascript({ typescript: true }), EditorState.readOnly.of(true), EditorView.editable.of(false)] }),
});

const editor = new EditorView({
  parent: $("editor"),
  state: EditorState.create({
    doc: state.source,
    extensions: [
      basicSetup,
      javascript({ typescript: true }),
      lintGutter(),
      EditorView.updateListener.of((u) => {
        if (!u.docChanged) return;
        state = { ...state, source: u.state.doc.toString() };
        schedule();
      }),
    ],
  }),
});

function toDiagnostic(doc: Text, d: Located): Diagnostic {
  const line = doc.line(Math.min(Math.max(1, d.line), doc.lines));
  const from = Math.min(line.from + d.col - 1, line.to);
  const to = Math.min(from + Math.max(1, d.length), Math.max(line.to, from + 1), doc.length);
  return { from, to: Math.max(to, from), severity: "error", message: d.message };
}

let timer: ReturnType<typeof setTimeout> | undefined;
let run = 0;
function schedule(delay = 250) {
  clearTimeout(timer);
  timer = setTimeout(() => void update(), delay);
}

/** Compiles the source, shows the gradient or the errors, then draws the graph. */
async function update() {
  const mine = ++run;
  const status = $("status");
  status.textContent = "compiling…";
  status.className = "status";
  const source = state.source;
  const compiled = await compileSource(source);
  if (mine !== run) return;
  const doc = editor.state.doc;
  editor.dispatch(setDiagnostics(editor.state, compiled.diagnostics.map((d) => toDiagnostic(doc, d))));
  const errors = $("errors");
  if (compiled.output === null) {
    const n = compiled.diagnostics.length;
    status.textContent = `${n} error${n === 1 ? "" : "s"}`;
    status.className = "status bad";
    errors.hidden = false;
    errors.textContent = compiled.diagnostics.map((d) => `${d.line}:${d.col}: error: ${d.message}`).join("\n");
    $("code").hidden = true;
    // no stale picture of the function as it was: the graph waits for code that compiles
    $("graph").replaceChildren();
    const graphErrors = $("graph-errors");
    graphErrors.hidden = false;
    graphErrors.textContent = "The graph is drawn once the function compiles: fix the errors above.";
    writeHash(state);
    return;
  }
  status.textContent = "compiled";
  errors.hidden = true;
  $("code").hidden = false;
  code.dispatch({ changes: { from: 0, to: code.state.doc.length, insert: compiled.output } });
  pointForm(compiled.functions);
  draw();
  writeHash(state);
}

/** A field per parameter of the chosen function, keeping the values already typed. */
function pointForm(functions: readonly FunctionIR[]) {
  const form = $("point");
  const fn = functions.find((f) => f.name === state.fn) ?? functions[0];
  if (!fn) return;
  state = { ...state, fn: fn.name };
  params = fn.params.map((p) => p.name);
  const key = JSON.stringify([functions.map((f) => f.name), fn.name, fn.params.map((p) => [p.name, p.typeText]), fn.resultType]);
  if (form.dataset.key === key) return;
  form.dataset.key = key;
  form.replaceChildren();
  if (functions.length > 1) {
    const select = document.createElement("select");
    select.id = "fn";
    for (const f of functions) select.add(new Option(f.name, f.name, false, f.name === fn.name));
    select.onchange = () => {
      state = { ...state, fn: select.value };
      void update();
    };
    form.append(label("function", select));
  }
  for (const p of fn.params) {
    const input = field(`at-${p.name}`, state.at[p.name] ?? defaultValue(p.type, p.typeText), p.type === "tensor" || p.type === "array" || /\[\]|Array/.test(p.typeText));
    input.oninput = () => {
      state = { ...state, at: { ...state.at, [p.name]: input.value } };
      draw();
      writeHash(state);
    };
    state = { ...state, at: { ...state.at, [p.name]: input.value } };
    form.append(label(`${p.name}: ${p.typeText}`, input));
  }
  const dout = field("dout", state.dout || (fn.resultType === "number" ? "1" : ""), fn.resultType !== "number");
  dout.placeholder = fn.resultType === "number" ? "1" : "shaped like the result";
  dout.oninput = () => {
    state = { ...state, dout: dout.value };
    draw();
    writeHash(state);
  };
  form.append(label("dout (upstream gradient)", dout));
  const unroll = document.createElement("input");
  unroll.type = "checkbox";
  unroll.id = "unroll";
  unroll.checked = state.unroll;
  unroll.onchange = () => {
    state = { ...state, unroll: unroll.checked };
    draw();
    writeHash(state);
  };
  form.append(label("unroll loops", unroll));
}

function defaultValue(type: string, typeText: string): string {
  if (type === "tensor") return "[[1, 2], [3, 4]]";
  if (type === "array" || /\[\]|Array/.test(typeText)) return "[1, 2, 3]";
  if (type === "boolean") return "true";
  return "1";
}

function field(id: string, value: string, wide: boolean): HTMLInputElement {
  const input = document.createElement("input");
  input.type = "text";
  input.id = id;
  input.value = value;
  input.spellcheck = false;
  if (wide) input.className = "array";
  return input;
}

function label(text: string, control: HTMLElement): HTMLLabelElement {
  const l = document.createElement("label");
  l.append(`${text} `, control);
  return l;
}

/** Draws the graph of the chosen function at the point in the form. */
function draw() {
  const at = params.filter((p) => (state.at[p] ?? "").trim() !== "").map((p) => `${p}=${state.at[p]}`).join(",");
  const graph = $("graph");
  const errors = $("graph-errors");
  let result;
  try {
    result = graphOf(state.source, { fn: state.fn, at, dout: state.dout, unroll: state.unroll });
  } catch (e) {
    result = { svg: null, diagnostics: [], errors: [`the graph cannot be drawn: ${e instanceof Error ? e.message : String(e)}`] };
  }
  if (result.svg === null) {
    errors.hidden = false;
    errors.textContent = [...result.errors, ...result.diagnostics.map((d) => `${d.line}:${d.col}: error: ${d.message}`)].join("\n");
    graph.replaceChildren();
    return;
  }
  errors.hidden = true;
  // the SVG is tsgrad's own output, with every text escaped
  graph.innerHTML = result.svg;
}

function showExamples() {
  const nav = $("examples");
  for (const e of examples as Example[]) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = e.title;
    b.dataset.fn = e.fn;
    b.onclick = () => {
      state = fromExample(e);
      $("point").dataset.key = "";
      editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: e.source } });
      schedule(0);
    };
    nav.append(b);
  }
}

showExamples();
schedule(0);
// for tests and the curious: the texts of both editors (the views render only what is on screen)
Object.assign(window, { tsgradPlayground: { source: () => editor.state.doc.toString(), code: () => code.state.doc.toString() } });
