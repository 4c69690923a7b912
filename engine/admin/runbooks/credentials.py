# %% [markdown]
# # Credentials test
# The setup test, step by step. Nothing is sent: the dry run stops when the server says it
# is ready for the message.

# %%
result = admin.test_credentials()
show({"result": "every step passed" if result["ok"] else result["message"], "what to do": result["hint"]},
     kind="status")
show(result["steps"])
