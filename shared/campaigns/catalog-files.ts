import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { CatalogError, type CatalogSource } from './catalog.ts';

/**
 * Reads the catalog's files from a repository: campaigns/*.yaml, segments/*.yaml,
 * campaigns/templates/*.liquid and the `sending:` section of rapport.config.yaml. File names in
 * messages are relative to the repository, as a marketer sees them in git.
 */
export function readCatalogSource(
  root: string,
  configFile = join(root, 'rapport.config.yaml'),
): CatalogSource {
  const problems: string[] = [];
  const name = (path: string) => relative(root, path) || path;
  const readYaml = (path: string): unknown => {
    try {
      return parse(readFileSync(path, 'utf8'));
    } catch (error) {
      problems.push(
        `${name(path)}: not valid YAML: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
      );
      return undefined;
    }
  };
  const yamlFiles = (directory: string) =>
    existsSync(directory)
      ? readdirSync(directory)
          .filter((file) => /\.ya?ml$/.test(file))
          .sort()
          .map((file) => join(directory, file))
      : [];

  const campaigns = yamlFiles(join(root, 'campaigns')).map((path) => ({
    file: name(path),
    document: readYaml(path),
  }));
  const segments = yamlFiles(join(root, 'segments')).map((path) => ({
    file: name(path),
    name: path.replace(/^.*\//, '').replace(/\.ya?ml$/, ''),
    document: readYaml(path),
  }));
  const templateDirectory = join(root, 'campaigns', 'templates');
  const templates = existsSync(templateDirectory)
    ? Object.fromEntries(
        readdirSync(templateDirectory)
          .filter((file) => file.endsWith('.liquid'))
          .sort()
          .map((file) => [file, readFileSync(join(templateDirectory, file), 'utf8')]),
      )
    : {};
  let sending: unknown;
  if (existsSync(configFile)) {
    const document = readYaml(configFile);
    if (typeof document === 'object' && document !== null && !Array.isArray(document)) {
      sending = (document as Record<string, unknown>).sending;
    }
  }
  if (problems.length > 0) throw new CatalogError(problems);
  return { campaigns, segments, templates, sending, sendingFile: name(configFile) };
}
