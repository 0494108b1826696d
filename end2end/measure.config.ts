import base from "./playwright.config";
import { defineConfig } from "@playwright/test";

// The page-weight and time-to-interactive measurement (not a test: it prints
// figures). Run by `.ci/measure-pages`.
export default defineConfig({ ...base, testDir: "./measure", timeout: 300_000 });
