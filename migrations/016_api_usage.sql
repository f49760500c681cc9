-- Reserved for API keys' rate limits and daily usage: filled in by that work.
SELECT 1;
