// Bundles firmware/main.ts into dist/firmware.js: one ES5 file for Espruino 2v2x, minified.
// TypeScript 5.9 emits ES5 (TS 6 deprecated that target, TS 7 removed it); tools/guard.ts then checks the
// bundle itself, because what Espruino parses is a property of the output, not of the source.
import typescript from "@rollup/plugin-typescript";
import terser from "@rollup/plugin-terser";
import { unwrapClasses } from "./tools/unwrap-classes.js";
import { inlineStrings } from "./tools/inline-strings.js";

// Espruino globals the bundle must never shadow with a mangled top-level name (the bundle is not wrapped in a
// function: see below). Terser already avoids the globals the code references; these are the short ones it
// could otherwise pick.
const ESPRUINO_RESERVED = ["E", "LED", "LED1", "LED2", "LED3", "BTN", "BTN1", "BTN2", "FET", "NaN"]
  .concat(Array.from({ length: 48 }, (_, i) => "D" + i), Array.from({ length: 16 }, (_, i) => "A" + i));

const debug = process.env.FIRMWARE_DEBUG === "1";

export default {
  input: "firmware/main.ts",
  output: {
    file: "dist/firmware.js",
    // No wrapper function: on Espruino a function defined inside another keeps an extra scope array, so a
    // top-level bundle saves about one JsVar per function (measured on 2v29).
    format: "es",
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
            mangle: { properties: { regex: /^_/ }, reserved: ESPRUINO_RESERVED },
            format: { ascii_only: true, comments: false }
          }),
          // After terser: the string constants it kept as top-level vars (globals on the device, ~2-3
          // JsVars each) go back into the code, which stays in flash.
          inlineStrings()
        ]
  },
  plugins: [
    typescript({
      tsconfig: "./tsconfig.json",
      compilerOptions: { outDir: "dist", sourceMap: true, noEmitOnError: true }
    }),
    unwrapClasses()
  ],
  onwarn(warning, warn) {
    if (warning.code === "CIRCULAR_DEPENDENCY") throw new Error(warning.message);
    warn(warning);
  }
};
