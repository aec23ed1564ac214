/**
 * The CLI's `--token <jwt>` (issue 7): accepted anywhere on the command line of any client
 * command, it is moved into `TESSERA_TOKEN`, which the HTTP client sends as the bearer token
 * (core/security-context.ts). Kept out of the commands' own options so that every command,
 * present and future, takes it.
 */

/** Removes `--token <jwt>` / `--token=<jwt>` from `argv` and sets `env.TESSERA_TOKEN`. */
export function takeTokenOption(
  argv: readonly string[],
  env: Record<string, string | undefined>,
): string[] {
  const rest: string[] = [];
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index] ?? '';
    if (arg === '--') {
      rest.push(...argv.slice(index));
      break;
    }
    if (arg === '--token' && index + 1 < argv.length) {
      env['TESSERA_TOKEN'] = argv[index + 1];
      index += 1;
    } else if (arg.startsWith('--token=')) {
      env['TESSERA_TOKEN'] = arg.slice('--token='.length);
    } else rest.push(arg);
  }
  return rest;
}
