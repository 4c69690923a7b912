# %% [markdown]
# # Inbox sync
# Where receiving has got to on the server (per folder: UIDVALIDITY and last UID for IMAP,
# messages seen for POP3), and any message that could not be read.

# %%
show(admin.sync_state() or "nothing received yet")

# %% [markdown]
# ## Messages with problems (kept raw, never dropped)

# %%
show(admin.unreadable_messages() or "none")
