// The heatmap placeholder: only the toolbar; the heatmap viewer replaces this whole page when installed.
import { page } from "../app.js";

page(async () => {});
