/** Moved to ../onePerReturn.ts; this path stays for test/unit/nodes/onePerReturn.test.ts, which imports it. */
export { creditedMeanwhile, onePerReturn, returnKey } from '../onePerReturn';
