/**
 * Distributed grep (the MapReduce paper's example): the lines matching `args.pattern` (a
 * JavaScript regular expression; `args.ignore_case` for case-insensitive), as `path<TAB>line`,
 * grouped by input file, in file order within a file.
 */
import type { JobArgs, JobFunctions } from './types.js';

/** The grep job. */
export function grep(args: JobArgs): JobFunctions {
  const ignoreCase = args['ignore_case'] === true || args['ignore_case'] === 'true';
  const pattern = new RegExp(String(args['pattern'] ?? ''), ignoreCase ? 'iu' : 'u');
  return {
    map(path, line, emit) {
      if (pattern.test(line)) emit(path, line);
    },
    reduce(path, lines, emit) {
      for (const line of lines) emit(path, line);
    },
  };
}
