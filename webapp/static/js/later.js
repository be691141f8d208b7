// Every screen but the menu, and the consent form, in one file: loaded the first time one of them is opened
// (or once the menu is shown), so a slow line carries only the menu's code before the menu.
import { render as item } from './screens/item.js';
import { render as cart } from './screens/cart.js';
import { render as checkout } from './screens/checkout.js';
import { render as order } from './screens/order.js';
import { render as orders } from './screens/orders.js';
import { render as profile } from './screens/profile.js';
import { render as staff } from './screens/staff.js';
import { render as group } from './screens/group.js';  // group orders
import { render as gift } from './screens/gift.js';  // gifts

export const screens = { item, cart, checkout, order, orders, profile, staff, group, gift };
export { askConsent } from './privacy.js';  // personal data
