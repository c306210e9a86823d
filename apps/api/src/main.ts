import { hello } from "@app/contacts";
import { x } from "./other.js";
console.log(hello(), x);
