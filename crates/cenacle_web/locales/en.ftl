# English words of the web pages. Every key here is in fr.ftl too, in the same order.
skip-to-content = Skip to content
nav-main = Main menu
nav-groups = Groups
sign-out = Sign out
sign-in = Sign in
sign-up = Create an account
other-language = Français
footer = A Cénacle community, part of the fediverse.
back-home = Back to the home page
session-expired = Your session has expired. Sign in again to go on where you were.
field-username = User name
field-password = Password
no-account = No account yet?
field-email = E-mail (optional)
field-invite = Invitation code (if you have one)
field-reason = Why you want to join (if the community asks)
field-welcome-post = Welcome me by name in the welcome group
registered-pending = Your account is waiting for a community manager's approval. You can sign in once it is approved.
no-groups = No group yet.
visibility-restricted = members post, everyone reads
visibility-private = private
ask-question = Ask a question
join-group = Join this group
sign-in-to-take-part = Sign in to take part
sort = Sort
sort-new = Newest
sort-top = Top
sort-active = Active
no-posts = Nothing here yet: be the first to ask.
pinned = Pinned
solved = Solved
field-kind = Kind
kind-question = Question
kind-idea = Idea
kind-note = Note
field-title = Title
field-body = Details (Markdown)
field-tags = Tags (separated by commas)
field-image = Image (optional)
field-image-description = Describe the image for those who cannot see it
markdown-hint = Markdown: **bold**, *italics*, [link](https://…), lists, `code`.
preview = Preview
preview-heading = Preview
attached-images = Attached images
invalid-file_too_large = This file is too large.
invalid-unsupported_type = Send a PNG, JPEG, GIF or WebP image.
invalid-type_mismatch = This file is not the kind of image its name says.
publish = Publish
accepted-answer = Accepted answer
official-answer = Official answer
accept-answer = Accept this answer
no-answers = No answer yet.
your-answer = Your answer
field-answer = Answer (Markdown)
post-answer = Post the answer
sign-in-to-answer = Sign in to answer
answers-count = { $count ->
    [one] { $count } answer
   *[other] { $count } answers
}
score = { $count ->
    [one] { $count } vote point
   *[other] { $count } vote points
}
not-found-heading = Page not found
not-found = This page does not exist, or you may not see it.
error-heading = Something went wrong
csrf-refused = This form has expired. Go back, reload the page and send it again.
reputation = Reputation
rank = Rank
accepted-answers = Accepted answers
likes-received = Likes received
reward-points = Reward points
home-reputation = Reputation on their home instance
badges = Badges
no-badges = No badge yet.
my-profile = My profile
feeds = Feeds
feed-home = My groups
feed-instance = Everything here
idea-board = Idea board
idea-status = Status:
status-history = Status history
move-idea-to = Move the idea to
status-comment = Public comment (optional)
change-status = Change the status
status-submitted = Submitted
status-under_review = Under review
status-planned = Planned
status-in_progress = In progress
status-done = Done
status-declined = Declined
status-duplicate = Duplicate
search = Search
search-words = Words to look for
search-tag = Tag
search-unanswered = Questions without an accepted answer only
search-results = { $count ->
    [one] { $count } result
   *[other] { $count } results
}
kind-any = Any
follow-remote = Follow a group on another server
follow-handle = Its address (!name@server, name@server or its URL)
follow = Follow
follow-failed = This address leads to no group we could reach. Check it and try again.
invalid-field = This field is not valid.
invalid-empty = This field cannot be empty.
invalid-too_long = Too long: please shorten it.
invalid-too_short = Too short.
invalid-too_many = Too many.
invalid-invalid_characters = Use only lowercase letters, digits and _.
invalid-same_as_username = The password must not be the user name.
invalid-too_simple = Too simple: use a longer passphrase.
invalid-invalid_email = This is not an e-mail address.
invalid-reserved = This name is reserved.
join-requested = Your request to join was sent to the group's moderators.
group-private = This group is private: only its members see what it holds.
ask-to-join = Ask to join
removed-by-moderator = Removed by a moderator:
removal-reason = Reason for removing it
remove = Remove
restore = Restore

# Widgets on the organisation's own site
widget-latest-answers = Latest answers from the community
widget-no-answers = No answer yet: be the first to ask.
widget-see-community = See the community
widget-ask = Ask the community
widget-ask-button = Ask
widget-ask-hint = Opens the community in a new window, where you sign in if needed.

# Votes and bounties
like-post = Like this question
dislike-post = Dislike this question
like-answer = Like this answer
dislike-answer = Dislike this answer
bounty = Bounty
bounty-points = { $count ->
    [one] { $count } point
   *[other] { $count } points
}
bounty-open = open
bounty-closed = closed
bounty-until = until
bounty-amount = Points offered
bounty-days = Days
bounty-offer = Offer a bounty
bounty-hint = Your points are held now; the best answer wins them when the bounty ends, or the answer you award.
bounty-award = Award the bounty

# Leaderboard
nav-leaderboard = Leaderboard
leaderboard = Leaderboard
board-periods = Period
board-week = This week
board-month = This month
board-year = This year
board-all = All time
board-empty = Nobody has earned reputation over this period yet.
board-rank = Rank
board-member = Member

# Join requests
join-requests = Join requests
no-join-requests = No request waiting.
approve = Approve
decline = Decline

# Administration
nav-admin = Administration
admin-accounts = Accounts
admin-instances = Other instances
admin-filter = Show
admin-all-accounts = All accounts
admin-pending-accounts = Waiting for approval
admin-no-accounts = No account here.
admin-role = Role
admin-change-role = Change
admin-registration = Registration
admin-active = active
role-admin = Administrator
role-community_manager = Community manager
role-moderator = Moderator
role-staff = Staff
role-member = Member
admin-block-host = Block an instance (its host name)
admin-block = Block
admin-unblock = Unblock
admin-blocked = blocked
admin-limit = Limit
admin-unlimit = Lift the limit
admin-limited = limited: its posts need approval
admin-no-instances = No other instance known yet.
admin-host = Instance
admin-state = How we treat it
admin-weight = Weight of its votes (0 to 10)
admin-save = Save
admin-unreachable = unreachable
admin-invite = Make an invitation
admin-invite-made = Give this code to the person you invite (it is shown only now):
admin-invite-expires = valid until

# Gift shop
nav-shop = Shop
shop = Gift shop
shop-balance = Your points:
shop-my-orders = My orders
shop-empty = Nothing in the shop yet.
shop-out-of-stock = out of stock
shop-unlimited = always available
shop-left = { $count ->
    [one] { $count } left
   *[other] { $count } left
}
shop-address = Delivery address (erased once delivered)
shop-redeem = Redeem
shop-no-orders = No order yet.
shop-your-code = Your code:
shop-held = held by your bids:
shop-available = available:
shop-edit = Edit this reward
shop-name-en = Name (English)
shop-name-fr = Name (French)
shop-description-en = Description (English)
shop-description-fr = Description (French)
shop-price = Price in points
shop-limit-per-member = Most orders per member (blank: no limit)
shop-limit-per-period = Most orders per member per period (blank: no limit)
shop-limit-period = Period
shop-period-day = per day
shop-period-week = per week
shop-period-month = per month
shop-available-from = Available from (UTC, blank: now)
shop-available-until = Available until (UTC, blank: no end)
shop-save = Save
shop-restock-quantity = Units to add
shop-restock = Restock
# Point auctions
auctions = Point auctions
auctions-intro = Bid your points on rare rewards: your bid is held until someone bids more (then it comes back at once) or the auction ends.
auctions-empty = No auction is running.
auction-leading = Leading bid:
auction-starting = Starting price:
auction-ends = Ends
auction-you-lead = You lead this auction.
auction-put-up = Put a reward up for auction
auction-reward = Reward
auction-ends-at = Ends at (UTC)
auction-starting-price = Starting price in points
auction-min-increment = Smallest raise in points (blank: 1)
auction-reserve = Reserve price in points (blank: none; kept from members)
auction-put-up-button = Start the auction
auction-state = Status
auction-reserve-unmet = (reserve not met)
auction-your-bid = Your bid in points
auction-available = Your points free to bid:
auction-bid = Bid
auction-next-minimum = Smallest bid now:
auction-cancel = Cancel this auction
auction-bids = Bids
auction-no-bids = No bid yet.
auction-bid-yours = you
auction-bid-other = a member
auction-status-open = running
auction-status-won = sold
auction-status-unsold = not sold
auction-status-cancelled = cancelled
bid-status-leading = leading
bid-status-outbid = outbid
bid-status-won = won
bid-status-lost = lost
bid-status-cancelled = cancelled
invalid-not_after_start = The end must come after the start, in the future.
# Champions programme (the member's side)
champion-programme = Champions programme
champion-status-none = You are not in the champions programme. Community managers invite the members who help most.
champion-status-invited = You are invited to become a champion of this community.
champion-status-declined = You declined the invitation.
champion-status-pending_charter = One step left: read and accept the champions' charter.
champion-status-active = You are a champion. Thank you!
champion-status-exited = You left the champions programme.
champion-your-title = Your title:
champion-invited-groups = The groups you would champion:
champion-reason-optional = A word for the community managers (optional)
champion-accept = Accept the invitation
champion-decline = Decline
champion-charter = The champions' charter
champion-tools-suspended = A new version of the charter waits for you: your champion tools are paused until you accept it.
champion-accept-charter = I accept the charter
champion-groups = Your groups
champion-no-groups = No group yet.
champion-since = since
champion-objectives = This month's objectives
champion-metric-answers_per_month = Answers:
champion-metric-accepted_answers_per_month = Accepted answers:
champion-objective-met = met
champion-renewal-due = Yearly review due:
champion-leave = Leave the programme
champion-leave-button = Leave the champions programme
champion-exit-reason = Reason given:
account-champion-link = Champions programme
# Contests
contests = Contests
contests-empty = No contest yet.
contest-running = running
contest-closed = closed
contest-open = Open a contest
contest-title = Title
contest-starts-at = Starts at (UTC, blank: now)
contest-ends-at = Ends at (UTC)
contest-groups = Groups (names separated by commas; blank: every group)
contest-open-button = Open the contest
contest-board = Live board
contest-winners = Winners
contest-close = Close the contest
contest-prizes = Points for rank 1, 2, 3… (e.g. 100, 50, 20)
contest-close-button = Close and pay the prizes
invalid-before_start = The end must come after the start.
invalid-invalid = This value is not valid.
order-requested = requested
order-approved = approved
order-shipped = shipped
order-delivered = delivered
order-refused = refused (points given back)
order-cancelled = cancelled (points given back)

# Reports
report = Report
report-link = Report
report-what-post = You are reporting this post to the group's moderators.
report-what-comment = You are reporting this answer to the group's moderators.
report-what-person = You are reporting this person to the community's moderators.
report-reason = Why
report-text = What the moderators should know (optional)
report-share = The moderators of other servers may see my name
report-share-hint = Unticked, our community sends the report in its own name.
report-send = Send the report
my-reports = My reports
no-reports = No report.
reports-queue = Reports
reports-queue-instance = Reports to the community
report-statuses = Reports by status
report-status-open = open
report-status-resolved = resolved
report-status-dismissed = dismissed
reported-by = reported by
report-note = Note for the reporter
report-ban = Ban the person from the group
report-ban-days = For how many days (empty: for good)
report-resolve = Resolve
report-dismiss = Dismiss
invalid-out_of_range = This value is out of range.
bad-request = This request is not one the page can make: go back and try again from the page.

# Approval queue
approval-queue = Posts waiting for approval
no-pending-posts = No post is waiting.
rejection-reason = Reason given to the author (if you reject)
reject = Reject
approval-settings = Which posts wait
approval-enabled = Hold posts for a moderator's approval
approval-first-posts = A member's first posts that wait (0: none)
approval-min-reputation = Posts of members below this reputation wait (0: none)
post-pending = This post waits for a moderator's approval: only you and the moderators see it.
post-rejected = Not published by the moderators:

# Group proposals
proposals = Proposed groups
proposals-intro = Members propose the groups they miss; once enough back one, it opens with its proposer as owner and its backers invited.
no-proposals = No group proposed yet.
proposal-backers = { $count ->
    [one] { $count } backer
   *[other] { $count } backers
}
proposal-open = gathering backers
proposal-created = open now
proposal-declined = declined
proposal-back = Back this group
propose-group = Propose a group
proposal-name = Short name (lowercase letters, digits and _)
proposal-purpose = What it is for
propose = Propose
invalid-already_published = This form was already published. Publish again to post this as a new question.


# E-mail and the account
invalid-email_required = This community needs an e-mail address to confirm.
forgot-password = Forgot your password?
forgot-intro = Give your account’s e-mail address: we send it a link to choose a new password.
field-account-email = E-mail address
send-link = Send the link
forgot-sent = If an account uses this address, a link to choose a new password is on its way. It works once, for a limited time.
reset-password = Choose a new password
field-new-password = New password (at least 10 characters)
reset-done = Your password is changed and every session has ended. Sign in with the new one.
verify-email = Confirm your address
verify-intro = Confirm that this e-mail address is yours.
verify-button = Confirm my address
verify-done = Your address is confirmed. Thank you!
confirm-email = Confirm your new address
confirm-email-intro = Confirm that your account’s mail should go to this address from now on.
confirm-email-done = Your new address is confirmed: mail goes there from now on.
unsubscribe = Stop these mails
unsubscribe-intro = Stop receiving this kind of mail. Mails about your account itself (password, address) still come.
unsubscribe-done = Done: this kind of mail will not come any more.
nav-account = Account
account = My account
account-no-email = No e-mail address yet.
account-verified = confirmed
account-unverified = not confirmed yet
change-email = Change my e-mail address
field-new-email = New e-mail address
field-current-password = Current password
change-email-sent = A link went to the new address: the change happens once it is followed. The old address was told.
# Notifications
nav-notifications = Notifications
notifications-title = Your notifications
notifications-empty = Nothing new for you yet.
notifications-unread = unread
notifications-unread-only = Unread only
notifications-everything = Everything
notifications-mark-read = Mark read
notifications-mark-all-read = Mark all read
notif-reply = replied to
notif-answer-accepted = accepted your answer to
notif-like = { $count ->
    [one] liked your contribution to
   *[other] and others ({ $count } people) liked your contribution to
}
notif-idea-status = changed the status of
notif-badge-awarded = You were awarded a badge:
notif-join-approved = approved your request to join
notif-join-declined = declined your request to join
notif-moderation-removed = removed your contribution to
notif-moderation-restored = restored your contribution to
notif-moderation-resolved = acted on your report about
notif-moderation-dismissed = dismissed your report about
notif-accept-reminder = Your question has answers, none accepted yet: accept the one that helped.
notif-hidden-post = a post you can no longer see
account-title = My account
preferences-title = Notification preferences
preferences-save = Save preferences
preferences-saved = Preferences saved.
kind-reply = Replies to my posts and comments
kind-answer-accepted = My answer accepted
kind-like = Likes on my contributions
kind-idea-status = Status of ideas I posted or support
kind-badge-awarded = Badges awarded to me
kind-join-request = Decisions on my requests to join a group
kind-moderation = Moderation of my contributions and reports
kind-accept-reminder = Reminders to accept an answer
delivery-in-app = In the app only
delivery-email-immediate = By e-mail at once, and in the app
delivery-email-daily = In the daily e-mail digest, and in the app
delivery-email-weekly = In the weekly e-mail digest, and in the app
delivery-off = Off: do not tell me
welcome-title = Getting started
welcome-from = A word from
welcome-dismiss = Hide this welcome
journey-title = Your first steps
journey-done = done
journey-points = points
step-complete-profile = Complete your profile (name, bio, picture)
step-join-group = Join a group
step-answer-question = Answer a question
step-post-idea = Post an idea
step-ask-question = Ask a question
step-like-contributions = Like contributions
nav-welcome = Getting started
