/** The examples one click away in the playground: the seeds' worked examples, at the seeds' numbers. */
export interface Example {
  readonly title: string;
  readonly file: string;
  readonly fn: string;
  readonly at: string;
  readonly dout?: string;
  readonly unroll?: number;
}

export const EXAMPLES: readonly Example[] = [
  { title: "staged (x + σ(y)) / (σ(x) + (x + y)²)", file: "fixtures/staged.ts", fn: "staged", at: "x=3,y=-4" },
  { title: "gates 2(xy + max(z, w))", file: "fixtures/max_gate.ts", fn: "gates", at: "x=3,y=-4,z=2,w=-1" },
  { title: "(x + y) · z", file: "fixtures/add_mul.ts", fn: "addMul", at: "x=2,y=3,z=4" },
  { title: "x + y · z", file: "fixtures/add_product.ts", fn: "addProduct", at: "x=-2,y=5,z=-4" },
  { title: "sigmoid neuron", file: "fixtures/neuron.ts", fn: "neuron", at: "w0=2,w1=-3,w2=-3,x0=-1,x1=-2" },
  { title: "neuron, squared error", file: "fixtures/neuron_mse.ts", fn: "neuronLoss", at: "w0=0.5,w1=-0.3,w2=0.8,x0=1,x1=2,x2=-1,t=1" },
  { title: "Swish × 2 (the gear train)", file: "fixtures/swish.ts", fn: "swishTimesTwo", at: "x=1", dout: "0.5" },
  { title: "flat chain", file: "fixtures/flat_chain.ts", fn: "flatChain", at: "x=3" },
  { title: "custom gradient (SquareFunction)", file: "fixtures/custom.ts", fn: "square", at: "x=2" },
  { title: "a loop: polynomial fit", file: "fixtures/loops.ts", fn: "polyFit", at: "c0=0.5,c1=-0.3,c2=0.2,xs=[1,-1,2],ys=[0.4,0.9,1.1]", unroll: 8 },
];
