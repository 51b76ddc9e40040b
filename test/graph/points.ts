/**
 * One point per fixture function to draw its graph at, written as `graph --at` takes it.
 * The seeds' examples are drawn at the seeds' own numbers; a function not listed gets a
 * point made from its parameters' types (numbers, arrays of four).
 */
import type { FunctionIR } from "../../compiler/ir/ir.ts";

export interface Point {
  readonly at: string;
  readonly dout?: string;
}

const SEEDS: Record<string, Point> = {
  addMul: { at: "x=2,y=3,z=4" },
  addProduct: { at: "x=-2,y=5,z=-4" },
  gates: { at: "x=3,y=-4,z=2,w=-1" },
  maxGate: { at: "a=4,b=5" },
  neuron: { at: "w0=2,w1=-3,w2=-3,x0=-1,x1=-2" },
  staged: { at: "x=3,y=-4" },
  swishTimesTwo: { at: "x=1", dout: "0.5" },
  flatChain: { at: "x=3" },
  neuronLoss: { at: "w0=0.5,w1=-0.3,w2=0.8,x0=1,x1=2,x2=-1,t=1" },
};

const OTHERS: Record<string, Point> = {
  matvec: { at: "W=[0.5,-1,2,0.3,0.1,-0.4],x=[1,-2,0.5],rows=2", dout: "[1,-0.5]" },
  softmax: { at: "z=[1,2,0.5]", dout: "[1,0,-1]" },
  mlpLoss: { at: "W1=[0.5,-0.2,0.1,0.4,-0.3,0.2],b1=[0.1,-0.1],w2=[0.7,-0.6],x=[1,-1,0.5],target=0.3" },
  smoothTwice: { at: "x=[1,-0.5,2,0.3],a=0.4" },
  centered: { at: "x=[1,2,4]", dout: "[1,0,-1]" },
  smoothL1: { at: "pred=0.3,target=0.1,beta=1" },
  hingeLoss: { at: "w=0.4,b=0.1,x=1.5,label=1" },
  logistic: { at: "w=0.5,b=-0.2,xs=[1,-1,2],labels=[1,0,1]" },
  budgetedReturn: { at: "gamma=0.9,r=[1,-0.5,2,0.3],cost=[0.4,0.3,0.5,0.6],budget=1" },
  positiveEnergy: { at: "x=[0.5,-0.3,0.8,-1],scale=1.5" },
  kepler: { at: "M=1,e=0.3" },
  firstCrossing: { at: "y=[-0.5,-0.1,0.4,0.9],level=0.2" },
  weightedSquares: { at: "xs=[1,-2,0.5,3],w=0.5" },
  spreadScore: { at: "a=0.5,x=[1,-0.5,2]" },
  softplusNeuron: { at: "w=[0.5,-0.3,0.2],x=[1,2,-1],b=0.1" },
  polyFit: { at: "c0=0.5,c1=-0.3,c2=0.2,xs=[1,-1,2],ys=[0.4,0.9,1.1]" },
  recurrence: { at: "w=0.5,u=-0.3,b=0.1,x=[1,-1,2]" },
  rosenbrock: { at: "x=[0.5,-0.3,1.2]" },
  softmaxCE: { at: "z=[1,2,0.5],label=1" },
  special: { at: "u=1.5,v=0.4" },
  clash: { at: "x=0.7,dx=-0.4,n=2,scaled=true" },
  safeLog: { at: "x=1.5,floor=0.5" },
  huber: { at: "pred=0.3,target=1.5,delta=1" },
  growth: { at: "rate=0.1,start=0.8,cap=3" },
  matvecLeaky: { at: "A=[0.5,-1,2,0.3],v=[1,-2],rows=2" },
  svmLoss: { at: "W=[[0.2,-0.5,0.1],[0.4,0.3,-0.2]],X=[[1,-1],[0.5,2],[-1,0.3]],y=[0,2,1],classes=3" },
  twoLayer: { at: "W1=[[0.2,-0.5,0.1],[0.4,0.3,-0.2]],b1=[0.1,0,-0.1],W2=[[0.3,-0.2],[0.1,0.5],[-0.4,0.2]],b2=[0.05,-0.05],X=[[1,-1],[0.5,2]],y=[0,1]" },
  product: { at: "W=[[1,2],[3,4]],X=[[0.5,-1],[2,0]]", dout: "[[1,0],[0,1]]" },
  rectify: { at: "x=[1,-2,0.5]", dout: "[1,1,1]" },
  lineLoss: { at: 'a=0.5,b=-0.2,pts=[{"x":1,"y":0.4},{"x":-1,"y":0.9},{"x":2,"y":1.1}]' },
  lineFit: { at: 'line_slope=0.5,line_at=-0.2,pts=[{"x":1,"y":0.4},{"x":-1,"y":0.9},{"x":2,"y":1.1}]' },
  energy: { at: 'pos=[0.1,0.2,1.1,-0.3,0.4,0.9],bodies=[{"x":0,"y":0,"m":1},{"x":1,"y":0,"m":0.5},{"x":0.5,"y":1,"m":2}],eps=0.1' },
  logisticLoss: { at: "params_w=[0.5,-0.3],params_b=0.1,X=[[1,2],[-1,0.5],[0.3,-2]],y=[1,0,1]" },
  finalEnergy: { at: "x=1,v=0,k=2,c=0.1,dt=0.1,steps=3" },
  scored: { at: 'w=[0.5,0.8],x=[0.4,0.9],kind="tanh",labels=[1,-1],squared=true,name="n"' },
  weightedFit: { at: 'a=0.5,b=-0.2,samples=[{"x":1,"y":0.4,"weight":1},{"x":-1,"y":0.9,"weight":0.5}]' },
  rowsNorm: { at: "v=[0.5,-1,0.3],M=[[1,2,0.5],[-1,0.5,2]]" },
  reduced: { at: 'x=[0.5,-1,2],options_label="a",options_scale=1.5,options_reduction=0,how=1' },
  rotate: { at: "p_0=0.5,p_1=-1,angle=0.3", dout: "[1,-0.5]" },
  deepTanh: { at: "W=[[0.5,-0.3],[0.2,0.4]],x=[[1,-1]],layers=2" },
  // fixtures/models/softmax_regression.ts: W flat, 3 classes of 2 features
  softmaxLoss: { at: "W=[[0.5,-1],[2,0.3],[0.1,-0.4]],x=[1,-2],label=1" },
  // fixtures/nested.ts: matrices as rows
  matvecError: { at: "W=[[0.5,-1,0.2],[0.3,0.1,-0.4]],x=[1,-2,0.5],target=[0.2,-0.3]" },
  twoLayerRows: { at: "W1=[[0.5,-1],[0.3,0.1],[-0.4,0.2]],b1=[0.1,-0.2,0.3],W2=[[0.7,-0.5,0.2],[0.1,0.4,-0.3]],x=[1,-0.5]" },
  quadratic: { at: "A=[[0.5,-1],[0.3,0.1]],x=[1,-2]" },
  // fixtures/custom_tangent.ts: positive weights, or the log-sum-exp has no value
  scaledLse: { at: "a=0.7,x=[0.5,-1,2],w=[0.5,1.5,1]" },
  residualStack: { at: "W=[[0.5,-0.3],[0.2,0.4]],b=[0.1,-0.1],x=[[1,-1]],level=0.3,depth=2" },
  callPrice: { at: "S=100,K=95,T=1,r=0.05,sigma=0.2" },
  sideEffects: { at: "x=0.7,n=3,xs=[0.5,-1,2,0.3]" },
};

const NUMBERS = [1.5, -0.7, 0.4, 2, -1.2, 0.9, 0.25];

/** The point for a fixture function: the seeds' numbers, a chosen one, or one made from its parameters' types. */
export function pointFor(fn: FunctionIR): Point {
  const known = SEEDS[fn.name] ?? OTHERS[fn.name];
  if (known) return known;
  const values = fn.params.map((p, i) => {
    if (p.type === "boolean") return "true";
    if (p.type === "tensor") throw new Error(`test/graph/points.ts: give the tensor function \`${fn.name}\` a point`);
    if (p.type === "array") return `[${[0, 1, 2, 3].map((k) => NUMBERS[(i + k) % NUMBERS.length]).join(",")}]`;
    return String(NUMBERS[i % NUMBERS.length]);
  });
  return { at: fn.params.map((p, i) => `${p.name}=${values[i]}`).join(",") };
}
