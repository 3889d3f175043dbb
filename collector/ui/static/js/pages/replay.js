// The replay page (/sessions/{id}/replay): the player alone, framed by the session page or opened by itself.
import { $ } from "../app.js";
import { mount } from "../replay-player.js";

const root = $("#replay");
mount(root, root.dataset.session);
