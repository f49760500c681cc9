package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
)

// A Slack incoming webhook is a URL Slack makes for one channel:
// https://hooks.slack.com/services/T…/B…/<secret>. Whoever has it can
// post there, so it is a secret: never logged, never in an error.
// https://api.slack.com/messaging/webhooks
const slackHost = "hooks.slack.com"

var slackPath = regexp.MustCompile(`^/services/[A-Z0-9]+/[A-Z0-9]+/[A-Za-z0-9]+$`)

// ValidSlackWebhook checks a Slack incoming webhook URL an admin pastes.
// Its messages say what is wrong without repeating the URL.
func ValidSlackWebhook(raw string) error {
	raw = strings.TrimSpace(raw)
	const want = "a Slack incoming webhook URL looks like https://hooks.slack.com/services/T…/B…/… (in Slack: your app → Incoming Webhooks → Copy)"
	if raw == "" {
		return errors.New("the Slack webhook URL is empty; " + want)
	}
	if len(raw) > 500 {
		return errors.New("the Slack webhook URL is too long; " + want)
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Opaque != "":
		return errors.New("the Slack webhook URL is not a URL; " + want)
	case u.Scheme != "https":
		return errors.New("the Slack webhook URL must start with https://; " + want)
	case u.User != nil || u.Host != slackHost:
		return errors.New("the Slack webhook URL must be on hooks.slack.com; " + want)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return errors.New("the Slack webhook URL must not have a query or fragment; " + want)
	case u.RawPath != "" || !slackPath.MatchString(u.Path):
		return errors.New("the Slack webhook URL is not an incoming webhook (/services/T…/B…/…); " + want)
	}
	return nil
}

// AllowLoopbackSlack accepts a webhook on a loopback address (an
// httptest receiver) besides a real one: for tests only.
func AllowLoopbackSlack(raw string) error {
	if u, err := url.Parse(raw); err == nil && u.Scheme == "http" {
		if a, err := netip.ParseAddr(u.Hostname()); err == nil && a.IsLoopback() {
			return nil
		}
	}
	return ValidSlackWebhook(raw)
}

// postSlack posts the alert to the webhook. Slack answers 200 "ok"; any
// other status is a failure whose body names it (invalid_payload,
// channel_not_found, channel_is_archived, action_prohibited…).
// https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks
func (s *Sender) postSlack(ctx context.Context, a Alert) error {
	if err := s.checkSlack(a.SlackURL); err != nil {
		return &permanentError{err}
	}
	body, err := json.Marshal(struct {
		Text string `json:"text"`
	}{slackText(a)})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.slackTO)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.SlackURL, bytes.NewReader(body))
	if err != nil {
		return errors.New("the Slack webhook URL is not usable")
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.http.Do(req)
	if err != nil {
		// url.Error's text holds the URL, whose last part is the secret:
		// keep only what failed.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("post to the Slack webhook: %w", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		err := fmt.Errorf("Slack answered %d", resp.StatusCode)
		if a := oneLine(string(answer), 120); a != "" {
			err = fmt.Errorf("Slack answered %d: %s", resp.StatusCode, a)
		}
		// 4xx: the payload, the channel or the webhook is wrong, and
		// stays so; 429 and 5xx may pass.
		if resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests {
			return &permanentError{err}
		}
		return err
	}
	return nil
}

// slackText is the message in Slack's mrkdwn: &, < and > escaped in every
// value, as Slack's text format requires, so that no value makes a link
// or a mention (@channel) of its own.
// https://docs.slack.dev/messaging/formatting-message-text/
func slackText(a Alert) string {
	var b strings.Builder
	b.WriteString("*" + slackEscape(a.Subject) + "*\n")
	b.WriteString(slackEscape(a.Text) + "\n")
	var where []string
	if a.WorkspaceName != "" {
		where = append(where, "Workspace: "+slackEscape(a.WorkspaceName))
	}
	if a.ConnectionName != "" {
		where = append(where, "Connection: "+slackEscape(a.ConnectionName))
	}
	if len(where) > 0 {
		b.WriteString(strings.Join(where, " · ") + "\n")
	}
	if a.Link != "" {
		// In <url|label>, a | would end the URL.
		b.WriteString("<" + slackEscape(strings.ReplaceAll(a.Link, "|", "%7C")) + "|Open in Qwoty>\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func slackEscape(s string) string { return slackEscaper.Replace(s) }
