// How often open pages look for news: often while an order moves, rarely once nothing will change.
export const POLL_MS = 1500;
export const POLL_IDLE_MS = 5000;
