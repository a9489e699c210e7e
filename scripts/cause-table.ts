// Prints the README's cause table from the cause modules: `npm run --silent docs:causes`.
import { causeTableMarkdown } from "../src/core/causes/table.js";

console.log(causeTableMarkdown());
