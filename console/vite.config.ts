/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run dev` proxies the API and sign-in to the console server of `make run` (port 8000).
const server = process.env.CREDITFLOW_CONSOLE_URL ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react()],
  server: { proxy: { "/api": server, "/auth/dev-token": server, "/config.json": server } },
  build: { target: "es2022", sourcemap: false, chunkSizeWarningLimit: 520 },
  test: {
    environment: "happy-dom",
    environmentOptions: { happyDOM: { url: "http://console.test/" } },
    unstubGlobals: true,
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/test/setup.ts"],
  },
});
