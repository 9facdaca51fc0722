// Bundles firmware/main.ts into dist/firmware.js: one ES5 file for Espruino 2v2x, minified.
// TypeScript 5.9 emits ES5 (TS 6 deprecated that target, TS 7 removed it); tools/guard.ts then checks the
// bundle itself, because what Espruino parses is a property of the output, not of the source.
import typescript from "@rollup/plugin-typescript";
import terser from "@rollup/plugin-terser";

const debug = process.env.FIRMWARE_DEBUG === "1";

export default {
  input: "firmware/main.ts",
  output: {
    file: "dist/firmware.js",
    format: "iife",
    strict: false,
    sourcemap: "hidden",
    // Espruino strings are byte strings: keep the file ASCII so nothing depends on the upload's encoding.
    plugins: debug
      ? []
      : [
          terser({
            ecma: 5,
            toplevel: true,
            compress: { passes: 2, unsafe_arrows: false, pure_getters: true },
            // Private members are spelled _name; mangling them to one or two letters keeps each property
            // name inside its JsVar on the device instead of spilling into extra string blocks.
            mangle: { properties: { regex: /^_/ } },
            format: { ascii_only: true, comments: false }
          })
        ]
  },
  plugins: [
    typescript({
      tsconfig: "./tsconfig.json",
      compilerOptions: { outDir: "dist", sourceMap: true, noEmitOnError: true }
    })
  ],
  onwarn(warning, warn) {
    if (warning.code === "CIRCULAR_DEPENDENCY") throw new Error(warning.message);
    warn(warning);
  }
};
