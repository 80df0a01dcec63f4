export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  target?: string; // the goal, in words, e.g. '>= 5000 files/s'
  note?: string;
}
export type Bench = () => Promise<BenchResult[]>;
