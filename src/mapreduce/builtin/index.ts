/** The built-in jobs: word count, grep, inverted index and sort. */
import type { BuiltinJob } from '../master/job-spec.js';
import { grep } from './grep.js';
import { invertedindex } from './invertedindex.js';
import { sort } from './sort.js';
import type { JobArgs, JobFunctions } from './types.js';
import { wordcount } from './wordcount.js';

export type * from './types.js';
export { rangePartition } from './sort.js';
export { parseDocument } from './invertedindex.js';

/** The functions of a built-in job. */
export function builtinJob(name: BuiltinJob, args: JobArgs): JobFunctions {
  switch (name) {
    case 'wordcount':
      return wordcount();
    case 'grep':
      return grep(args);
    case 'invertedindex':
      return invertedindex(args);
    case 'sort':
      return sort();
  }
}
