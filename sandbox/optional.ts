// Loads an optional peer dependency (playwright-core, tsx): null when it is not installed, so the feature that needs
// it can say what to install; any other failure to load it is a real error and is thrown.

/** Runs `load` (an `import()` of `pkg` or one of its paths); null when `pkg` itself is not installed. */
export async function importOptional<T>(pkg: string, load: () => Promise<T>): Promise<T | null> {
  try {
    return await load();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND" && String((error as Error).message).includes(`'${pkg}'`)) return null;
    throw error;
  }
}
