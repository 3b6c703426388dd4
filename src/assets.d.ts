/** C sources are imported as text (`with { type: "text" }`) and embedded in the binary. */
declare module "*.c" {
  const text: string;
  export default text;
}
