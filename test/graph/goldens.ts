/** The pictures kept in fixtures/graphs/ as golden files: the seeds' circuits and one of each kind of box. */
import type { GraphOptions } from "../../compiler/graph/index.ts";

export interface Golden {
  readonly name: string;
  readonly file: string;
  readonly options: GraphOptions;
}

export const GOLDEN_GRAPHS: readonly Golden[] = [
  { name: "staged", file: "fixtures/staged.ts", options: { at: "x=3,y=-4" } },
  { name: "gates", file: "fixtures/max_gate.ts", options: { fn: "gates", at: "x=3,y=-4,z=2,w=-1" } },
  { name: "add_mul", file: "fixtures/add_mul.ts", options: { at: "x=2,y=3,z=4" } },
  { name: "add_product", file: "fixtures/add_product.ts", options: { at: "x=-2,y=5,z=-4" } },
  { name: "neuron", file: "fixtures/neuron.ts", options: { at: "w0=2,w1=-3,w2=-3,x0=-1,x1=-2" } },
  { name: "flat_chain", file: "fixtures/flat_chain.ts", options: { at: "x=3" } },
  { name: "swish", file: "fixtures/swish.ts", options: { at: "x=1", dout: "0.5" } },
  { name: "fanout", file: "fixtures/names.ts", options: { fn: "fanout", at: "x=1.5,y=-0.7" } },
  { name: "polyFit", file: "fixtures/loops.ts", options: { fn: "polyFit", at: "c0=0.5,c1=-0.3,c2=0.2,xs=[1,-1,2],ys=[0.4,0.9,1.1]" } },
  { name: "rosenbrock.unrolled", file: "fixtures/loops.ts", options: { fn: "rosenbrock", at: "x=[0.5,-0.3,1.2]", unroll: 8 } },
  { name: "radius", file: "fixtures/calls.ts", options: { fn: "radius", at: "x=1,y=2,cx=0.5,cy=-1" } },
  { name: "hingeLoss", file: "fixtures/calls.ts", options: { fn: "hingeLoss", at: "w=0.4,b=0.1,x=1.5,label=1" } },
  { name: "deep.depth0", file: "fixtures/calls.ts", options: { fn: "deep", at: "x=0.5,w1=1.2,w2=-0.7,w3=0.4", depth: 0 } },
  { name: "twoLayer", file: "fixtures/two_layer.ts", options: { at: "W1=[[0.2,-0.5,0.1],[0.4,0.3,-0.2]],b1=[0.1,0,-0.1],W2=[[0.3,-0.2],[0.1,0.5],[-0.4,0.2]],b2=[0.05,-0.05],X=[[1,-1],[0.5,2]],y=[0,1]" } },
];

export const goldenPath = (g: Golden) => `fixtures/graphs/${g.name}.svg`;
